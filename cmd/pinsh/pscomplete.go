package main

import (
	"slices"
	"strings"

	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/pslang"
)

// PowerShell completion (pinsh --ps): the same completer, with what pslang
// says it runs (pslang.Translator.Cmdlets) in place of the Tengo names:
//   - where a command goes (the start of a pipeline element), the cmdlets;
//   - after "-" in a command, that cmdlet's parameters;
//   - after "$_." (or "$PSItem.") in a script block, and where
//     Select-Object, Sort-Object, Where-Object, Format-* take property
//     names, the PowerShell names of the fields of the records flowing
//     there (IsPinSet), found by the builtin each cmdlet stands for, as
//     the Tengo completion finds them;
//   - in the value of -Identity (or the first value of a cmdlet that takes
//     one), identities, as in Tengo.
//
// Names match ignoring case, as PowerShell's do; what was typed is kept.

// psElem is a pipeline element of PowerShell text: its words.
type psElem struct {
	words []psWord
}

// psWord is a word of a PowerShell command: a bare word, a -Parameter, a
// string (quote is its quote character, text its inside).
type psWord struct {
	text  string
	quote byte
	open  bool // a string the text ends in, still open
	comma bool // after a comma: another value of the list before it
}

// isParam reports whether w is a -Parameter.
func (w psWord) isParam() bool { return w.quote == 0 && strings.HasPrefix(w.text, "-") }

// psFrame is a level of brackets: the pipeline elements of the statement
// being written at that level, the last the one being written.
type psFrame struct {
	elems  []psElem
	parent *psFrame
}

// psLex reads PowerShell text before the cursor into frames, and returns
// the innermost open one, its last element the cursor's, and the word the
// cursor is in ("" after a separator).
func psLex(s string) (frame *psFrame, word psWord, inWord bool) {
	frame = &psFrame{elems: []psElem{{}}}
	var cur strings.Builder
	comma := false // a comma since the last word
	add := func(w psWord) {
		w.comma, comma = comma, false
		e := &frame.elems[len(frame.elems)-1]
		if len(e.words) == 1 && strings.HasPrefix(e.words[0].text, "$") && w.quote == 0 && w.text == "=" {
			e.words = nil // $x = COMMAND: the command starts here
			return
		}
		e.words = append(e.words, w)
	}
	end := func() {
		if inWord {
			add(psWord{text: cur.String()})
		}
		cur.Reset()
		inWord = false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' || ch == '\'':
			end()
			j := i + 1
			for j < len(s) && s[j] != ch {
				if ch == '"' && s[j] == '`' {
					j++
				}
				j++
			}
			if j >= len(s) { // the text is kept as typed, escapes and all
				return frame, psWord{text: s[i+1:], quote: ch, open: true, comma: comma}, true
			}
			add(psWord{text: s[i+1 : j], quote: ch})
			i = j
		case ch == ',':
			end()
			comma = true
		case ch == ' ' || ch == '\t':
			end()
		case ch == '|':
			end()
			frame.elems = append(frame.elems, psElem{})
		case ch == ';' || ch == '\n':
			end()
			frame.elems = []psElem{{}}
		case ch == '{' || ch == '(':
			end()
			add(psWord{text: string(ch)})
			frame = &psFrame{elems: []psElem{{}}, parent: frame}
		case ch == '}' || ch == ')':
			end()
			if frame.parent != nil {
				frame = frame.parent
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	return frame, psWord{text: cur.String(), comma: comma}, inWord
}

// psComplete completes PowerShell text; see above.
func (c *completer) psComplete(text string) ([]string, int) {
	frame, word, _ := psLex(text)
	elem := frame.elems[len(frame.elems)-1]
	n := len([]rune(word.text))
	stage := len(frame.elems) > 1 // its input is the pipeline's
	if word.quote != 0 {
		if cmd, ok := c.psElemCmdlet(elem); ok && psValueOf(cmd, elem, word, stage) == "Identity" {
			return c.psIdentities(word)
		}
		return nil, 0
	}
	if obj, ok := cutPrefixFold(word.text, "$_."); ok {
		return foldPrefix(c.psBlockFields(frame), obj, ""), len([]rune(obj))
	}
	if obj, ok := cutPrefixFold(word.text, "$PSItem."); ok {
		return foldPrefix(c.psBlockFields(frame), obj, ""), len([]rune(obj))
	}
	if len(elem.words) == 0 {
		return foldPrefix(c.psCmdletNames(), word.text, ""), n
	}
	cmd, ok := c.psElemCmdlet(elem)
	if !ok {
		return nil, 0
	}
	if p, ok := strings.CutPrefix(word.text, "-"); ok {
		return foldPrefix(slices.Concat(cmd.Params, cmd.Switches), p, ""), len([]rune(p))
	}
	switch psValueOf(cmd, elem, word, stage) {
	case "Property":
		return foldPrefix(c.psFields(frame, len(frame.elems)-1), word.text, ""), n
	case "Identity":
		if !strings.HasPrefix(word.text, "$") {
			return c.psIdentities(word)
		}
	}
	return nil, 0
}

// cutPrefixFold is strings.CutPrefix ignoring case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// foldPrefix returns the suffixes of the candidates that start with prefix
// ignoring case, each after what was typed, sorted and followed by tail.
func foldPrefix(cands []string, prefix, tail string) []string {
	var out []string
	for _, c := range cands {
		if rest, ok := cutPrefixFold(c, prefix); ok {
			out = append(out, prefix+rest)
		}
	}
	return withPrefix(out, prefix, tail)
}

// psCmdletNames returns the names of the commands pslang runs.
func (c *completer) psCmdletNames() []string {
	var names []string
	for _, cmd := range c.r.ev.ps.Cmdlets() {
		names = append(names, cmd.Name)
	}
	return names
}

// psCmdlet returns the command named name (ignoring case).
func (c *completer) psCmdlet(name string) (pslang.Cmdlet, bool) {
	for _, cmd := range c.r.ev.ps.Cmdlets() {
		if strings.EqualFold(cmd.Name, name) {
			return cmd, true
		}
	}
	return pslang.Cmdlet{}, false
}

// psElemCmdlet returns the command of a pipeline element.
func (c *completer) psElemCmdlet(elem psElem) (pslang.Cmdlet, bool) {
	if len(elem.words) == 0 {
		return pslang.Cmdlet{}, false
	}
	return c.psCmdlet(elem.words[0].text)
}

// psValueOf returns the parameter that word, typed after the words of
// elem, is a value of, binding as pslang does: the -Parameter before it,
// else the list a comma continues, else the next positional parameter not
// bound by name. An element after a | (stage) takes its Identity from the
// pipeline.
func psValueOf(cmd pslang.Cmdlet, elem psElem, word psWord, stage bool) string {
	positional := cmd.Positional
	if stage {
		positional = slices.DeleteFunc(slices.Clone(positional), func(p string) bool { return p == "Identity" })
	}
	bound := map[string]bool{}
	expect, last, next := "", "", 0
	value := func(w psWord) string {
		switch {
		case expect != "":
			p := expect
			expect = ""
			return p
		case w.comma:
			return last
		}
		for next < len(positional) && bound[positional[next]] {
			next++
		}
		if next < len(positional) {
			next++
			return positional[next-1]
		}
		return ""
	}
	for _, w := range elem.words[1:] {
		if w.isParam() {
			p := psParam(cmd, w.text[1:])
			bound[p] = true
			if slices.Contains(cmd.Params, p) {
				expect = p
			}
			continue
		}
		last = value(w)
		bound[last] = true
	}
	return value(word)
}

// psParam returns the parameter of cmd that typed names (a prefix,
// ignoring case), or "" when it names none or several.
func psParam(cmd pslang.Cmdlet, typed string) string {
	var match []string
	for _, p := range slices.Concat(cmd.Params, cmd.Switches) {
		if strings.EqualFold(p, typed) {
			return p
		}
		if _, ok := cutPrefixFold(p, typed); ok {
			match = append(match, p)
		}
	}
	if len(match) == 1 {
		return match[0]
	}
	return ""
}

// psIdentities completes an identity typed as word (a bare word, or a
// string still open), with the Tengo completion's lookup. A bare word is
// offered only the forms that need no quotes.
func (c *completer) psIdentities(word psWord) ([]string, int) {
	escape, tail := func(f string) string { return f }, ""
	switch word.quote {
	case '\'':
		escape, tail = strings.NewReplacer("'", "''").Replace, "'"
	case '"':
		escape, tail = strings.NewReplacer("`", "``", `"`, "`\"", "$", "`$").Replace, `"`
	}
	forms := c.identityMatches(word.text, word.text, escape)
	if word.quote == 0 {
		forms = slices.DeleteFunc(forms, func(f string) bool { return strings.ContainsAny(f, " \t'\"`$,;|(){}") })
	}
	return withPrefix(forms, word.text, tail), len([]rune(word.text))
}

// psBlockFields returns the fields of the records $_ holds in the script
// block frame is: those reaching the command the block is an argument of.
func (c *completer) psBlockFields(frame *psFrame) []string {
	if frame.parent == nil {
		return nil
	}
	return c.psFields(frame.parent, len(frame.parent.elems)-1)
}

// psFields returns the PowerShell names of the fields of the records that
// reach element k of frame's pipeline: those of the elements before it,
// found by the builtin each cmdlet stands for.
func (c *completer) psFields(frame *psFrame, k int) []string {
	for k--; k >= 0; k-- {
		elem := frame.elems[k]
		if len(elem.words) == 0 {
			return nil
		}
		cmd, ok := c.psCmdlet(elem.words[0].text)
		if !ok {
			return nil
		}
		b := lang.ByCmdlet(c.r.builtins, cmd.Name)
		if b == nil {
			return nil
		}
		switch {
		case recordSources[b.Name]:
			var names []string
			for _, f := range builtins.RecordFields(b.Name) {
				names = append(names, pslang.PropertyName(f))
			}
			return names
		case b.Name == "select":
			if props := psPropertyArgs(cmd, elem); len(props) > 0 {
				return props
			}
		case !sameRecords[b.Name]:
			return nil
		}
	}
	return nil
}

// psPropertyArgs returns the property names a Select-Object element names.
func psPropertyArgs(cmd pslang.Cmdlet, elem psElem) []string {
	var props []string
	for i, w := range elem.words[1:] {
		if !w.isParam() && psValueOf(cmd, psElem{words: elem.words[:i+1]}, w, true) == "Property" {
			props = append(props, w.text)
		}
	}
	return props
}
