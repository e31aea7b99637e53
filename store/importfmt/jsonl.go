package importfmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/pinsh/pinsh/store"
)

func jsonRows(lr *lineReader, yield func(Row) bool) {
	var b builder
	for {
		line, err := lr.next()
		switch {
		case err == io.EOF:
			return
		case err == errLineTooLong:
			if !yield(Row{Line: lr.n, Err: fmt.Errorf("the line is longer than %d bytes", MaxRecordBytes)}) {
				return
			}
			continue
		case err != nil:
			yield(Row{Line: lr.n + 1, Err: err})
			return
		}
		if isBlank(line) {
			continue
		}
		u, err := jsonUser(&b, line)
		if !yield(Row{Line: lr.n, User: u, Err: err}) {
			return
		}
	}
}

// jsonUser maps one JSON object. Two keys that give one field (the same
// key twice, or two spellings such as display_name and DisplayName) make
// the line bad: encoding/json would keep the last, a CSV reader the first,
// and import refuses to guess.
func jsonUser(b *builder, line []byte) (store.User, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return store.User{}, badJSON(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return store.User{}, errors.New("expected a JSON object, {...}, on each line")
	}
	b.reset()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return store.User{}, badJSON(err)
		}
		key, _ := tok.(string) // inside an object the decoder only yields string keys
		var v any
		if err := dec.Decode(&v); err != nil {
			return store.User{}, badJSON(err)
		}
		c, use, err := resolve("key", key, true)
		if err != nil {
			return store.User{}, err
		}
		if !use {
			continue
		}
		if err := b.given(&c); err != nil {
			return store.User{}, err
		}
		switch v := v.(type) {
		case string:
			if err := b.set(&c, v); err != nil {
				return store.User{}, err
			}
		case bool:
			if c.kind != kBool {
				return store.User{}, wrongJSONType(key, &c, v)
			}
			b.setBool(&c, v)
		case nil:
			// null: the field is not given
		case []any:
			if c.kind != kGroups {
				return store.User{}, wrongJSONType(key, &c, v)
			}
			for _, g := range v {
				s, ok := g.(string)
				if !ok {
					return store.User{}, fmt.Errorf("%s must be an array of strings (group DNs), not one holding %s", key, jsonKind(g))
				}
				if err := b.set(&c, s); err != nil {
					return store.User{}, err
				}
			}
		default:
			return store.User{}, wrongJSONType(key, &c, v)
		}
	}
	if _, err := dec.Token(); err != nil {
		return store.User{}, badJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return store.User{}, errors.New("bad JSON: more after the object; write one object per line")
	}
	return b.finish()
}

// wrongJSONType is the error for the value v, of a type column c does not
// take, under key.
func wrongJSONType(key string, c *column, v any) error {
	switch c.kind {
	case kBool:
		return fmt.Errorf("%s must be true or false, not %s", key, jsonKind(v))
	case kGroups:
		return fmt.Errorf("%s must be a string or an array of strings (group DNs), not %s", key, jsonKind(v))
	}
	return fmt.Errorf("%s must be a string, not %s", key, jsonKind(v))
}

// jsonKind names the JSON type of a decoded value, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "a number"
}

func badJSON(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("bad JSON: the object is cut short; write each object whole on one line")
	}
	return fmt.Errorf("bad JSON: %v", err)
}
