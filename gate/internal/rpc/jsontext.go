// Package rpc screens JSON-RPC messages for the gate: raw JSON text helpers (the gate forwards the
// client's bytes and splices answers from raw slices, so numbers and strings are never
// re-encoded), the method policy, and the screening of calls and batches. Nothing here recurses
// over client-controlled nesting and nothing panics on any input.
package rpc

import (
	"bytes"
	"encoding/json"
)

// Span is a [start, end) range of a text.
type Span struct{ Start, End int }

// NestingDepth is the deepest nesting text reaches (brackets outside strings), stopping once it passes limit.
func NestingDepth(text []byte, limit int) int {
	depth, max := 0, 0
	n := len(text)
	for i := 0; i < n; i++ {
		switch text[i] {
		case '"':
			i = stringEnd(text, i) - 1
		case '[', '{':
			depth++
			if depth > max {
				max = depth
				if max > limit {
					return max
				}
			}
		case ']', '}':
			depth--
		}
	}
	return max
}

// stringEnd is the index just after the string that starts at i (a quote); len(text) when unterminated.
func stringEnd(text []byte, i int) int {
	n := len(text)
	for j := i + 1; j < n; j++ {
		switch text[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return n
}

func skipSpace(text []byte, i int) int {
	for i < len(text) {
		switch text[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// valueEnd is the index just after the JSON value that starts at i.
func valueEnd(text []byte, i int) int {
	n := len(text)
	if i >= n {
		return n
	}
	switch text[i] {
	case '"':
		return stringEnd(text, i)
	case '[', '{':
		depth := 0
		for j := i; j < n; j++ {
			switch text[j] {
			case '"':
				j = stringEnd(text, j) - 1
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return n
	}
	j := i
	for j < n {
		switch text[j] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// ValueSpan is the span of the whole value in text (without surrounding whitespace).
func ValueSpan(text []byte) Span {
	start := skipSpace(text, 0)
	return Span{start, valueEnd(text, start)}
}

// Elements are the element spans of the array that starts at start (text must be valid JSON).
func Elements(text []byte, start int) []Span {
	var out []Span
	i := skipSpace(text, start+1)
	if i >= len(text) || text[i] == ']' {
		return out
	}
	for {
		end := valueEnd(text, i)
		out = append(out, Span{i, end})
		i = skipSpace(text, end)
		if i >= len(text) || text[i] != ',' {
			return out
		}
		i = skipSpace(text, i+1)
	}
}

// Member is one member of an object: its name and the span of its raw value.
type Member struct {
	raw     []byte // the name between its quotes
	escaped bool   // the name has an escape (raw must be decoded)
	Value   Span
}

// Is is true when the member's decoded name is name (without allocating for a name without escapes).
func (m *Member) Is(name string) bool {
	if m.escaped {
		return decodeString(m.raw) == name
	}
	return string(m.raw[1:len(m.raw)-1]) == name
}

// Members appends to dst the members of the object that starts at start, in text order
// (duplicates kept; text must be valid JSON).
func Members(dst []Member, text []byte, start int) []Member {
	i := skipSpace(text, start+1)
	if i >= len(text) || text[i] == '}' {
		return dst
	}
	for i < len(text) {
		keyEnd := stringEnd(text, i)
		raw := text[i:keyEnd]
		escaped := len(raw) < 2 || bytes.IndexByte(raw, '\\') >= 0
		i = skipSpace(text, skipSpace(text, keyEnd)+1)
		end := valueEnd(text, i)
		dst = append(dst, Member{raw: raw, escaped: escaped, Value: Span{i, end}})
		i = skipSpace(text, end)
		if i >= len(text) || text[i] != ',' {
			return dst
		}
		i = skipSpace(text, i+1)
	}
	return dst
}

// decodeString decodes a raw JSON string (names with escapes, e.g. \u006dethod, decode as the node decodes them).
func decodeString(raw []byte) string {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		plain := true
		for _, c := range raw[1 : len(raw)-1] {
			if c == '\\' {
				plain = false
				break
			}
		}
		if plain {
			return string(raw[1 : len(raw)-1])
		}
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
