// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"fmt"
	"regexp"
	"strings"
)

// pinSet holds the images the kubelet must never garbage-collect: exact
// references, normalised, and glob patterns matched against the normalised
// names an image is listed under (its repo tags and repo digests).
type pinSet struct {
	exact map[string]bool
	globs []*regexp.Regexp
}

// isGlob tells patterns from references: '*' and '?' never occur in a
// reference.
func isGlob(s string) bool { return strings.ContainsAny(s, "*?") }

// newPinSet reads references and patterns. In a pattern '*' matches any run
// of characters, '/' included, and '?' one character. A pattern whose first
// component is a Docker Hub short name is completed as a reference would
// be ("busybox:*" → "docker.io/library/busybox:*"); one starting with a
// glob is taken as written ("*/pause:*").
func newPinSet(refs []string) (pinSet, error) {
	p := pinSet{exact: map[string]bool{}}
	for _, r := range refs {
		if !isGlob(r) {
			n, err := Normalize(r)
			if err != nil {
				return pinSet{}, err
			}
			p.exact[n] = true
			continue
		}
		re, err := globRegexp(completeShortName(r))
		if err != nil {
			return pinSet{}, fmt.Errorf("pattern %q: %w", r, err)
		}
		p.globs = append(p.globs, re)
	}
	return p, nil
}

// completeShortName adds Docker Hub's domain (and library/ for a one-part
// name) when the first component names no registry, as normalisation of a
// reference does.
func completeShortName(pattern string) string {
	first, rest, hasSlash := strings.Cut(pattern, "/")
	if isGlob(first) {
		return pattern
	}
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return pattern // names a registry already
	}
	if !hasSlash {
		return "docker.io/library/" + pattern
	}
	return "docker.io/" + first + "/" + rest
}

func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for _, c := range pattern {
		switch c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// matches tells whether a normalised name is pinned.
func (p pinSet) matches(name string) bool {
	if p.exact[name] {
		return true
	}
	for _, re := range p.globs {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}
