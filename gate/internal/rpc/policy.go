package rpc

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/blockchain-tenancy/node-gate/internal/contracts"
)

var methodName = regexp.MustCompile(contracts.MethodNamePattern)

// IsNeverAllowed is true when no configuration may allow the method (lib/contracts/rpc-policy.ts isNeverAllowed).
func IsNeverAllowed(method string) bool {
	for _, m := range contracts.NeverAllowedMethods {
		if m == method {
			return true
		}
	}
	i := strings.IndexByte(method, '_')
	var ns string
	if i >= 0 {
		ns = method[:i]
	} else if len(method) > 0 {
		ns = method[:len(method)-1] // as String.prototype.slice(0, -1)
	}
	for _, n := range contracts.NeverAllowedNamespaces {
		if strings.EqualFold(n, ns) {
			return true
		}
	}
	return false
}

// AllowedMethods are the method names the gate passes for a client (sorted); an error names an extra name that may not be allowed.
func AllowedMethods(client string, extra []string) ([]string, error) {
	missing := contracts.MissingMethods[client]
	for _, m := range extra {
		if !methodName.MatchString(m) {
			return nil, fmt.Errorf("extraAllowedMethods: '%s' is not a JSON-RPC method name; give exact names such as eth_getHeaderByNumber", m)
		}
		if IsNeverAllowed(m) {
			return nil, fmt.Errorf("extraAllowedMethods: %s uses or reveals node keys or node state and can never be allowed; remove it", m)
		}
	}
	set := map[string]bool{}
	for _, m := range contracts.StandardMethods {
		skip := false
		for _, x := range missing {
			if x == m {
				skip = true
			}
		}
		if !skip {
			set[m] = true
		}
	}
	for _, m := range extra {
		set[m] = true
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out, nil
}

// Policy is a compiled method policy.
type Policy struct {
	allowed map[string]struct{}
}

// NewPolicy compiles the policy of a client ("besu", "goquorum", "geth"; anything else gets the standard list).
func NewPolicy(client string, extra []string) (*Policy, error) {
	methods, err := AllowedMethods(client, extra)
	if err != nil {
		return nil, err
	}
	p := &Policy{allowed: make(map[string]struct{}, len(methods))}
	for _, m := range methods {
		p.allowed[m] = struct{}{}
	}
	return p, nil
}

// allows is true when method (the plain text of a JSON string, without escapes) may pass.
func (p *Policy) allows(method []byte) bool {
	_, ok := p.allowed[string(method)]
	return ok
}

// Refusal is why a call of method may not pass, or "" when it may. isString is false when the
// call's method is missing or not a JSON string.
func (p *Policy) Refusal(method string, isString bool) string {
	if !isString {
		return "invalid request: method must be a string"
	}
	if _, ok := p.allowed[method]; ok {
		return ""
	}
	if utf16Len(method) > 64 || !printableASCII(method) {
		return "method not allowed"
	}
	return "method " + method + " is not allowed"
}

func printableASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
