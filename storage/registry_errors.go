// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// classifyRegistryError gives an error that came from talking to a registry
// the kind a caller can act on. Errors that already carry a kind, context
// errors and nil pass through unchanged; an error of no known sort keeps no
// kind (the CRI layer then reports it as internal).
func classifyRegistryError(err error) error {
	if err == nil || kindOf(err) != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if kind := registryErrorKind(err); kind != nil {
		return fmt.Errorf("%w: %w", kind, err)
	}
	return err
}

func registryErrorKind(err error) error {
	// The registry's own answer comes first: an HTTP status or the error
	// codes of the distribution spec. ggcr reports these as *transport.Error,
	// also when a token server refuses credentials during the bearer flow.
	var terr *transport.Error
	if errors.As(err, &terr) {
		if kind := httpErrorKind(terr); kind != nil {
			return kind
		}
	}
	// Otherwise anything below HTTP: refused or reset connections, DNS,
	// TLS and certificate failures, a connection closed mid-body.
	var (
		netErr     net.Error
		x509Unk    x509.UnknownAuthorityError
		x509Host   x509.HostnameError
		x509Inv    x509.CertificateInvalidError
		tlsVerify  *tls.CertificateVerificationError
		tlsRecord  tls.RecordHeaderError
		syscallErr syscall.Errno
	)
	switch {
	case errors.As(err, &x509Unk), errors.As(err, &x509Host), errors.As(err, &x509Inv),
		errors.As(err, &tlsVerify), errors.As(err, &tlsRecord),
		errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &netErr), errors.As(err, &syscallErr):
		return ErrUnavailable
	}
	return nil
}

// httpErrorKind maps a registry's HTTP error answer. Docker Hub answers 401
// for a repository that does not exist when pulling anonymously; that stays
// Unauthorized, as it is for containerd, since the two cannot be told apart.
func httpErrorKind(terr *transport.Error) error {
	for _, d := range terr.Errors {
		switch d.Code {
		case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
			return ErrUnauthorized
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
			return ErrNotFound
		case transport.TooManyRequestsErrorCode, transport.UnavailableErrorCode:
			return ErrUnavailable
		}
	}
	switch code := terr.StatusCode; {
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return ErrUnauthorized
	case code == http.StatusNotFound:
		return ErrNotFound
	case code >= 500, code == http.StatusTooManyRequests, code == http.StatusRequestTimeout:
		return ErrUnavailable
	}
	return nil
}
