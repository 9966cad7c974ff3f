// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// nmeter implements the part of busybox's nmeter the Kubernetes node specs
// use to read the clock with milliseconds: `nmeter -d0 '%3t' | head -n1`.
// It prints FORMAT once per DELAY milliseconds (-d, default 1000; 0 means no
// pause) until its output is closed. Of nmeter's directives only %t is
// known: the local time as hh:mm:ss, %Nt with N (1-6) digits of the
// fraction of a second; %% is a percent sign, other text is copied.
func nmeter(args []string) int {
	delay := time.Second
	var format string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-d" && i+1 < len(args):
			i++
			a = "-d" + args[i]
			fallthrough
		case strings.HasPrefix(a, "-d"):
			ms, err := strconv.Atoi(a[2:])
			if err != nil || ms < 0 {
				fmt.Fprintf(os.Stderr, "nmeter: bad delay %q\n", a[2:])
				return 1
			}
			delay = time.Duration(ms) * time.Millisecond
		case format == "":
			format = a
		default:
			fmt.Fprintln(os.Stderr, "usage: nmeter [-d MSEC] FORMAT")
			return 1
		}
	}
	if format == "" {
		fmt.Fprintln(os.Stderr, "usage: nmeter [-d MSEC] FORMAT")
		return 1
	}
	w := bufio.NewWriter(os.Stdout)
	for {
		line, err := nmeterLine(format, time.Now())
		if err != nil {
			fmt.Fprintf(os.Stderr, "nmeter: %v\n", err)
			return 1
		}
		w.WriteString(line)
		w.WriteByte('\n')
		if w.Flush() != nil {
			return 0 // the reader is gone, as with `| head -n1`
		}
		if delay > 0 {
			time.Sleep(delay)
		}
	}
}

// nmeterLine expands format for the time now.
func nmeterLine(format string, now time.Time) (string, error) {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			b.WriteByte('%')
			continue
		}
		digits := 0
		if i < len(format) && format[i] >= '0' && format[i] <= '9' {
			digits = int(format[i] - '0')
			i++
		}
		if i >= len(format) || format[i] != 't' || digits > 6 {
			return "", fmt.Errorf("unsupported directive in %q (only %%t and %%Nt)", format)
		}
		b.WriteString(now.Format("15:04:05"))
		if digits > 0 {
			frac := fmt.Sprintf("%06d", now.Nanosecond()/1000)
			b.WriteByte('.')
			b.WriteString(frac[:digits])
		}
	}
	return b.String(), nil
}
