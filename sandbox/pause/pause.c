/* SPDX-License-Identifier: Apache-2.0
 *
 * pause: the infra process of a podshim pod. It holds the pod's namespaces
 * open, reaps zombies when it is PID 1 of a shared PID namespace, and exits
 * cleanly on SIGINT or SIGTERM. Built statically (musl) so it needs no image
 * and no libraries: podshim bind-mounts it into an empty rootfs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
	(void)sig;
	_exit(0);
}

/* Reap every child that has exited; more than one may share one SIGCHLD. */
static void on_child(int sig) {
	(void)sig;
	int saved = errno;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static int install(int sig, void (*handler)(int)) {
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART | (sig == SIGCHLD ? SA_NOCLDSTOP : 0);
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		puts("podshim pause");
		return 0;
	}
	if (install(SIGINT, on_stop) || install(SIGTERM, on_stop) || install(SIGCHLD, on_child)) {
		perror("pause: sigaction");
		return 1;
	}
	if (getpid() != 1)
		fputs("pause: not PID 1; zombies of this namespace are reaped elsewhere\n", stderr);
	for (;;)
		pause();
}
