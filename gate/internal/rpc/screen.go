package rpc

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/blockchain-tenancy/node-gate/internal/contracts"
)

// ErrorText is a JSON-RPC error answer; id is the client's raw id text (never re-encoded).
func ErrorText(code int, message string, id string) []byte {
	b := make([]byte, 0, 64+len(message)+len(id))
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	b = append(b, `,"error":{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = AppendJSString(b, message)
	return append(b, "}}"...)
}

// RefusalText is the gate's answer for an HTTP status it gives itself (detail replaces the message when set).
func RefusalText(status int, detail string) []byte {
	r, ok := contracts.Refusals[status]
	if !ok {
		r = contracts.Refusal{Code: contracts.CodeInternal, Message: "HTTP " + strconv.Itoa(status)}
	}
	if detail != "" {
		r.Message = detail
	}
	return ErrorText(r.Code, r.Message, "null")
}

// AppendJSString appends s as JSON.stringify writes it.
func AppendJSString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				b = append(b, '\\', '"')
			case '\\':
				b = append(b, '\\', '\\')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// Kind of a screened message.
type Kind int

const (
	// KindError refuses the whole message (Status and Text).
	KindError Kind = iota
	// KindSingle is one call: Text is its refusal, or nil when it may pass.
	KindSingle
	// KindBatch is a batch: Parts, of which Allowed may pass.
	KindBatch
)

// Screened is the outcome of screening one JSON-RPC message (an HTTP body or a WebSocket text message).
type Screened struct {
	Kind    Kind
	Status  int
	Text    []byte
	Parts   []Part
	Allowed int
}

// Part is one call of a batch: its span, raw id and the refusal answer when it may not pass.
type Part struct {
	Span Span
	// ID is the raw id text; HasID is false for a notification.
	ID    string
	HasID bool
	// IDSpan is the span of the id value (allowed calls with an id only).
	IDSpan Span
	Answer []byte
}

// Screener screens messages against a policy.
type Screener struct {
	Policy   *Policy
	MaxBatch int
}

func kindOf(text []byte, s Span) byte {
	if s.Start >= s.End || s.Start >= len(text) {
		return 0
	}
	return text[s.Start]
}

// call screens one call of a message text.
func (sc *Screener) call(text []byte, span Span) Part {
	if kindOf(text, span) != '{' {
		return Part{Span: span, ID: "null", HasID: true, Answer: ErrorText(contracts.CodeInvalidRequest, "invalid request: a call must be a JSON object", "null")}
	}
	var seen [4]bool
	var idSpan, methodSpan, paramsSpan Span
	var hasID, hasMethod, hasParams bool
	problem := ""
	var members [8]Member
	for _, m := range Members(members[:0], text, span.Start) {
		idx := -1
		for i, name := range contracts.JSONRPCMembers {
			if m.Is(name) {
				idx = i
				break
			}
		}
		if idx < 0 {
			if problem == "" {
				problem = "invalid request: unknown member"
			}
			continue
		}
		if seen[idx] && problem == "" {
			problem = "invalid request: duplicate member " + contracts.JSONRPCMembers[idx]
		}
		seen[idx] = true
		switch contracts.JSONRPCMembers[idx] {
		case "id":
			idSpan, hasID = m.Value, true
		case "method":
			methodSpan, hasMethod = m.Value, true
		case "params":
			paramsSpan, hasParams = m.Value, true
		}
	}
	id, idKnown := "", false
	if hasID {
		switch k := kindOf(text, idSpan); {
		case k == '"' || k == 'n' || k == '-' || (k >= '0' && k <= '9'):
			id, idKnown = string(text[idSpan.Start:idSpan.End]), true
		default:
			id, idKnown = "null", true
			if problem == "" {
				problem = "invalid request: id must be a string, a number or null"
			}
		}
	}
	if problem == "" && hasParams {
		if k := kindOf(text, paramsSpan); k != '[' && k != '{' {
			problem = "invalid request: params must be an array or an object"
		}
	}
	answerID := id
	if !idKnown {
		answerID = "null"
	}
	if problem != "" {
		return Part{Span: span, ID: answerID, HasID: true, Answer: ErrorText(contracts.CodeInvalidRequest, problem, answerID)}
	}
	method, isString := "", false
	if hasMethod && kindOf(text, methodSpan) == '"' {
		raw := text[methodSpan.Start:methodSpan.End]
		if bytes.IndexByte(raw, '\\') < 0 && sc.Policy.allows(raw[1:len(raw)-1]) {
			return allowedPart(text, span, idSpan, id, idKnown)
		}
		method, isString = decodeString(raw), true
	}
	if why := sc.Policy.Refusal(method, isString); why != "" {
		return Part{Span: span, ID: answerID, HasID: true, Answer: ErrorText(contracts.CodeMethodNotAllowed, why, answerID)}
	}
	return allowedPart(text, span, idSpan, id, idKnown)
}

// allowedPart is a call that may pass.
func allowedPart(text []byte, span, idSpan Span, id string, idKnown bool) Part {
	if !idKnown {
		return Part{Span: span}
	}
	return Part{Span: span, ID: id, HasID: true, IDSpan: idSpan}
}

// Screen screens one message; it never panics on any input. text must be valid UTF-8.
func (sc *Screener) Screen(text []byte) Screened {
	if NestingDepth(text, contracts.MaxNesting) > contracts.MaxNesting {
		return Screened{Kind: KindError, Status: 400, Text: ErrorText(contracts.CodeInvalidRequest, "invalid request: JSON nested deeper than "+strconv.Itoa(contracts.MaxNesting)+" levels", "null")}
	}
	if !json.Valid(text) {
		return Screened{Kind: KindError, Status: 400, Text: ErrorText(contracts.CodeParse, "parse error: the request is not valid JSON", "null")}
	}
	span := ValueSpan(text)
	if kindOf(text, span) != '[' {
		p := sc.call(text, span)
		return Screened{Kind: KindSingle, Text: p.Answer}
	}
	spans := Elements(text, span.Start)
	if len(spans) == 0 || len(spans) > sc.MaxBatch {
		return Screened{Kind: KindError, Status: 400, Text: ErrorText(contracts.CodeInvalidRequest, "invalid request: a batch must have 1 to "+strconv.Itoa(sc.MaxBatch)+" calls, this one has "+strconv.Itoa(len(spans)), "null")}
	}
	parts := make([]Part, len(spans))
	allowed := 0
	for i, s := range spans {
		parts[i] = sc.call(text, s)
		if parts[i].Answer == nil {
			allowed++
		}
	}
	return Screened{Kind: KindBatch, Parts: parts, Allowed: allowed}
}

// Waits is true when an allowed call of the batch expects an answer (has an id).
func (s *Screened) Waits() bool {
	for _, p := range s.Parts {
		if p.Answer == nil && p.HasID {
			return true
		}
	}
	return false
}

// ForwardText is the text of the allowed calls of a mixed batch, each call with an id renamed to
// "<tag>.<index>" (so its answer can be matched whatever order or form the client answers in).
func ForwardText(text []byte, parts []Part, tag string) []byte {
	out := make([]byte, 0, len(text)+32)
	out = append(out, '[')
	first := true
	for i, p := range parts {
		if p.Answer != nil {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		if !p.HasID {
			out = append(out, text[p.Span.Start:p.Span.End]...)
			continue
		}
		out = append(out, text[p.Span.Start:p.IDSpan.Start]...)
		out = append(out, '"')
		out = append(out, tag...)
		out = append(out, '.')
		out = strconv.AppendInt(out, int64(i), 10)
		out = append(out, '"')
		out = append(out, text[p.IDSpan.End:p.Span.End]...)
	}
	return append(out, ']')
}

// Answer is one answer of the client with its id taken out (Before + client id + After).
type Answer struct{ Before, After []byte }

// AnswersByIndex are the client's answer elements by the index of the call they answer (for
// calls tagged with tag); nil when the answer is not a JSON array.
func AnswersByIndex(answer []byte, tag string) map[int]Answer {
	if !utf8.Valid(answer) || NestingDepth(answer, 4096) > 4096 || !json.Valid(answer) {
		return nil
	}
	span := ValueSpan(answer)
	if kindOf(answer, span) != '[' {
		return nil
	}
	prefix := []byte(`"` + tag + `.`)
	out := map[int]Answer{}
	for _, s := range Elements(answer, span.Start) {
		if kindOf(answer, s) != '{' {
			continue
		}
		var id *Member
		ms := Members(nil, answer, s.Start)
		for i := range ms {
			if ms[i].Is("id") {
				id = &ms[i]
			}
		}
		if id == nil {
			continue
		}
		raw := answer[id.Value.Start:id.Value.End]
		if !bytes.HasPrefix(raw, prefix) || len(raw) < len(prefix)+2 {
			continue
		}
		index, err := strconv.Atoi(string(raw[len(prefix) : len(raw)-1]))
		if err != nil || index < 0 {
			continue
		}
		out[index] = Answer{Before: answer[s.Start:id.Value.Start], After: answer[id.Value.End:s.End]}
	}
	return out
}

// MergeBatch is one array, in request order: the refusals, and the client's answers with the client's own ids put back.
func MergeBatch(parts []Part, byIndex map[int]Answer) []byte {
	out := make([]byte, 0, 256)
	out = append(out, '[')
	first := true
	for i, p := range parts {
		var piece []byte
		switch {
		case p.Answer != nil:
			piece = p.Answer
		case p.HasID:
			if a, ok := byIndex[i]; ok {
				piece = make([]byte, 0, len(a.Before)+len(p.ID)+len(a.After))
				piece = append(append(append(piece, a.Before...), p.ID...), a.After...)
			} else {
				piece = ErrorText(contracts.CodeInternal, "the node's client gave no answer to this call", p.ID)
			}
		default:
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, piece...)
	}
	return append(out, ']')
}
