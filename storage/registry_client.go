// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	digest "github.com/opencontainers/go-digest"
)

// maxManifestBytes bounds what is read as a manifest or index; real ones
// are a few KiB, and containerd draws the line at the same size.
const maxManifestBytes = 4 << 20

// manifestAccept is sent on manifest requests. Schema 1 is accepted only so
// that a registry holding nothing else says so, and the pull can refuse it
// by name instead of failing as "not found".
var manifestAccept = []string{
	mediaTypeOCIIndex, mediaTypeDockerList,
	mediaTypeOCIManifest, mediaTypeDockerManifest,
	mediaTypeDockerSchema1Signed, mediaTypeDockerSchema1,
}

// repoClient reads one repository from one endpoint. ggcr's transport does
// the ping, the scheme choice, Basic auth, and the bearer token flow
// (including refreshing the token when the registry asks again).
type repoClient struct {
	http *http.Client
	repo name.Repository
	ep   endpoint
}

func dialRepo(ctx context.Context, ep endpoint, path string, auth authn.Authenticator, rt http.RoundTripper) (*repoClient, error) {
	var opts []name.Option
	if ep.insecure {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(ep.host+"/"+path, opts...)
	if err != nil {
		return nil, fmt.Errorf("repository %s/%s: %w: %v", ep.host, path, ErrInvalidReference, err)
	}
	authed, err := transport.NewWithContext(ctx, repo.Registry, auth, rt, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, fmt.Errorf("connect: %w", classifyRegistryError(err))
	}
	return &repoClient{http: &http.Client{Transport: authed}, repo: repo, ep: ep}, nil
}

// get issues a GET for /v2/<repo>/<kind>/<ident> and returns the response
// of a 200; anything else becomes an error carrying its kind.
func (c *repoClient) get(ctx context.Context, kind, ident string, accept []string) (*http.Response, error) {
	u := url.URL{
		// ggcr's transport replaces the scheme with the one its ping
		// found working for this host.
		Scheme: c.repo.Scheme(),
		Host:   c.repo.RegistryStr(),
		Path:   fmt.Sprintf("/v2/%s/%s/%s", c.repo.RepositoryStr(), kind, ident),
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if len(accept) > 0 {
		req.Header.Set("Accept", strings.Join(accept, ", "))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, classifyRegistryError(err)
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		resp.Body.Close()
		return nil, classifyRegistryError(err)
	}
	return resp, nil
}

// fetchedManifest is a manifest or index as the registry sent it.
type fetchedManifest struct {
	body        []byte
	contentType string
	digest      digest.Digest
}

func (c *repoClient) manifest(ctx context.Context, ident string) (fetchedManifest, error) {
	resp, err := c.get(ctx, "manifests", ident, manifestAccept)
	if err != nil {
		return fetchedManifest{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestBytes+1))
	if err != nil {
		return fetchedManifest{}, classifyRegistryError(err)
	}
	if len(body) > maxManifestBytes {
		return fetchedManifest{}, fmt.Errorf("manifest %s is larger than %d bytes: %w", ident, maxManifestBytes, ErrBadContent)
	}
	return fetchedManifest{body: body, contentType: resp.Header.Get("Content-Type"), digest: digest.FromBytes(body)}, nil
}

// blob opens blob d for reading. Read errors carry their kind, so a broken
// connection reads as ErrUnavailable while a full disk stays what it is.
func (c *repoClient) blob(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
	resp, err := c.get(ctx, "blobs", d.String(), nil)
	if err != nil {
		return nil, err
	}
	return &classifiedBody{resp.Body}, nil
}

type classifiedBody struct{ io.ReadCloser }

func (b *classifiedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = classifyRegistryError(err)
	}
	return n, err
}
