// SPDX-License-Identifier: Apache-2.0

// Command summarize reads a ginkgo JUnit report (critest's, or the node
// conformance suite's), prints "conformance: N passed, M failed, K skipped"
// (-name sets the leading word) with the failing spec names, and exits 1 if
// any spec of the expected-pass list did not pass.
package main

import (
	"bufio"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

type testcase struct {
	Name    string    `xml:"name,attr"`
	Status  string    `xml:"status,attr"`
	Skipped *struct{} `xml:"skipped"`
	Failure *struct{} `xml:"failure"`
	Error   *struct{} `xml:"error"`
}

type suites struct {
	Suites []struct {
		Cases []testcase `xml:"testcase"`
	} `xml:"testsuite"`
}

// specName drops ginkgo's node prefix ("[It] ") so names match the list.
func specName(n string) string {
	n = strings.TrimSpace(n)
	for _, p := range []string{"[It] ", "[BeforeSuite] ", "[AfterSuite] ", "[SynchronizedBeforeSuite] "} {
		n = strings.TrimPrefix(n, p)
	}
	return n
}

func readExpected(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			// The node suite's list keeps ginkgo's "[It] " prefix.
			out = append(out, specName(line))
		}
	}
	return out, sc.Err()
}

func main() {
	junit := flag.String("junit", "", "critest JUnit report")
	expected := flag.String("expected", "", "file listing specs that must pass, one per line")
	label := flag.String("name", "conformance", "the word that starts each summary line")
	except := flag.String("except", "", "file listing expected-pass specs this run's runtime handler cannot pass, each for the reason its comments give")
	flag.Parse()

	data, err := os.ReadFile(*junit)
	if err != nil {
		fmt.Fprintf(os.Stderr, "summarize: %v\n", err)
		os.Exit(2)
	}
	var s suites
	if err := xml.Unmarshal(data, &s); err != nil {
		fmt.Fprintf(os.Stderr, "summarize: parse %s: %v\n", *junit, err)
		os.Exit(2)
	}
	passed := map[string]bool{}
	var failed []string
	nPass, nSkip := 0, 0
	for _, suite := range s.Suites {
		for _, c := range suite.Cases {
			name := specName(c.Name)
			switch {
			case c.Skipped != nil || c.Status == "skipped" || c.Status == "pending":
				nSkip++
			case c.Failure != nil || c.Error != nil || c.Status == "failed" || c.Status == "panicked" || c.Status == "timedout" || c.Status == "interrupted":
				if strings.Contains(c.Name, "BeforeSuite]") || strings.Contains(c.Name, "AfterSuite]") || strings.HasPrefix(c.Name, "[It]") || !strings.HasPrefix(c.Name, "[") {
					failed = append(failed, name)
				}
			default:
				if strings.HasPrefix(c.Name, "[It]") || !strings.HasPrefix(c.Name, "[") {
					nPass++
					passed[name] = true
				}
			}
		}
	}
	sort.Strings(failed)
	fmt.Printf("%s: %d passed, %d failed, %d skipped\n", *label, nPass, len(failed), nSkip)
	for _, f := range failed {
		fmt.Printf("  FAILED: %s\n", f)
	}
	if *expected == "" {
		return
	}
	want, err := readExpected(*expected)
	if err != nil {
		fmt.Fprintf(os.Stderr, "summarize: %v\n", err)
		os.Exit(2)
	}
	excused := map[string]bool{}
	if *except != "" {
		ex, err := readExpected(*except)
		if err != nil {
			fmt.Fprintf(os.Stderr, "summarize: %v\n", err)
			os.Exit(2)
		}
		for _, e := range ex {
			excused[e] = true
			if passed[e] {
				fmt.Printf("%s: now passes, drop it from %s: %s\n", *label, *except, e)
			}
		}
	}
	var regressions []string
	kept := 0
	for _, w := range want {
		if excused[w] {
			continue
		}
		kept++
		if !passed[w] {
			regressions = append(regressions, w)
		}
	}
	if len(regressions) > 0 {
		fmt.Printf("%s: %d of %d expected-pass specs did not pass:\n", *label, len(regressions), kept)
		for _, r := range regressions {
			fmt.Printf("  REGRESSION: %s\n", r)
		}
		os.Exit(1)
	}
	if len(excused) > 0 {
		fmt.Printf("%s: all %d expected-pass specs passed (%d excused by %s)\n", *label, kept, len(want)-kept, *except)
		return
	}
	fmt.Printf("%s: all %d expected-pass specs passed\n", *label, len(want))
}
