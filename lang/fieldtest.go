package lang

import (
	"fmt"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"
	"github.com/d5/tengo/v2/token"
)

// Kinds is a set of kinds of value: what a field of a record can hold, as
// its maker declares it for FieldTest.
type Kinds uint8

const (
	KindUndefined Kinds = 1 << iota
	KindBool
	KindInt
	KindFloat
	KindString
	KindTime // a pinsh Time, never included
)

// KindOf returns the kind of v, or 0 when it is of no kind in Kinds.
func KindOf(v tengo.Object) Kinds {
	switch v.(type) {
	case *tengo.Undefined:
		return KindUndefined
	case *tengo.Bool:
		return KindBool
	case *tengo.Int:
		return KindInt
	case *tengo.Float:
		return KindFloat
	case *tengo.String:
		return KindString
	case *Time:
		return KindTime
	}
	return 0
}

// FieldTest is a script function of one record proven, from its compiled
// code, to be a plain test of the record's fields: field reads
// (p.field, p["field"]) compared with constants and with each other,
// combined with !, &&, || and if/else, returning the outcome. Go can then
// judge a record without making it and without running the function in
// Tengo, as where does for a store scan.
//
// Test gives what the function would give: it runs the same operations
// (Equals, IsFalsy, BinaryOp of the values themselves) in the same order
// on the values the record would hold. FieldTest accepts only code in
// which none of them can fail, judged by the kinds the record's maker
// declares for each field: any function whose code it does not prove
// (calls, globals, free variables, locals, loops, arithmetic, a field the
// schema lacks, an ordering of values that could be an error) is not a
// FieldTest, and runs in Tengo as before, with its own results and errors.
type FieldTest struct {
	code  []testOp
	reads uint64 // bit i: field i is read
	err   error
}

// testOp is one decoded instruction of a FieldTest.
type testOp struct {
	op    parser.Opcode // opField stands for GETL 0; CONST name; INDEX, OpConstant also for TRUE, FALSE and NULL
	arg   int           // the field, the jump target (an index into code), or the return's operand count
	tok   token.Token   // the operator of OpBinaryOp
	konst tengo.Object  // the value of OpConstant
}

// opField is the opcode of a field read in a FieldTest's code; Tengo's
// opcodes are all smaller.
const opField parser.Opcode = 255

// Limits of the code FieldTest examines: predicates are a line or two.
const (
	fieldTestMaxOps    = 256
	fieldTestMaxDepth  = 32
	fieldTestMaxStates = 4096
	fieldTestMaxFields = 64
)

// FieldTest returns fn as a FieldTest over records of schema s whose field
// i holds values of kinds[i] (0 or a missing entry: any value; such a
// field can be compared only for equality), or nil when fn is not a
// script function that FieldTest proves to be a plain test of fields.
func (e *Env) FieldTest(fn tengo.Object, s *Schema, kinds []Kinds) *FieldTest {
	cf, ok := fn.(*tengo.CompiledFunction)
	if !ok || cf.NumParameters != 1 || cf.NumLocals != 1 || cf.VarArgs || len(cf.Free) != 0 ||
		len(s.fields) > fieldTestMaxFields {
		return nil
	}
	code, ok := decodeTest(cf.Instructions, e.s.constants, s)
	if !ok {
		return nil
	}
	t := &FieldTest{code: code}
	if !t.check(kinds, e.s.limits.MaxAllocs) {
		return nil
	}
	return t
}

// decodeTest decodes the instructions of a function into testOps, with a
// field read (GETL 0; CONST "name"; INDEX) as one opField and jump targets
// as indexes into the result. It fails on any other opcode, a read of the
// parameter that is not a field read, a field s lacks or hides (a secret
// is read only by delivering the record), or a jump into an instruction.
func decodeTest(ins []byte, constants []tengo.Object, s *Schema) ([]testOp, bool) {
	var code []testOp
	at := map[int]int{} // byte offset of an instruction -> its index in code
	for i := 0; i < len(ins); {
		if len(code) == fieldTestMaxOps {
			return nil, false
		}
		op := ins[i]
		if int(op) >= len(parser.OpcodeOperands) {
			return nil, false
		}
		operands, n := parser.ReadOperands(parser.OpcodeOperands[op], ins[i+1:])
		at[i] = len(code)
		next := i + 1 + n
		t := testOp{op: op}
		switch op {
		case parser.OpGetLocal:
			// Only as p.name: GETL 0; CONST "name"; INDEX.
			if operands[0] != 0 || next+4 > len(ins) || ins[next] != parser.OpConstant || ins[next+3] != parser.OpIndex {
				return nil, false
			}
			c, _ := parser.ReadOperands(parser.OpcodeOperands[parser.OpConstant], ins[next+1:])
			if c[0] >= len(constants) {
				return nil, false
			}
			name, isStr := constants[c[0]].(*tengo.String)
			if !isStr {
				return nil, false
			}
			f := s.Index(name.Value)
			if f < 0 || f == s.secret {
				return nil, false // Tengo reports the misspelt field, with its own words
			}
			t.op, t.arg = opField, f
			next += 4
		case parser.OpConstant:
			if operands[0] >= len(constants) {
				return nil, false
			}
			switch c := constants[operands[0]].(type) {
			case *tengo.String, *tengo.Int, *tengo.Float:
				t.konst = c
			default:
				return nil, false
			}
		case parser.OpBinaryOp:
			t.tok = token.Token(operands[0])
			switch t.tok {
			case token.Less, token.LessEq, token.Greater, token.GreaterEq:
			default:
				return nil, false
			}
		case parser.OpJumpFalsy, parser.OpAndJump, parser.OpOrJump, parser.OpJump:
			if operands[0] <= i {
				return nil, false // backwards: a loop
			}
			t.arg = operands[0] // a byte offset until every instruction is known
		case parser.OpReturn:
			t.arg = operands[0]
		case parser.OpTrue, parser.OpFalse, parser.OpNull:
			// Constants too, as Tengo's shared values.
			t.op, t.konst = parser.OpConstant, map[parser.Opcode]tengo.Object{
				parser.OpTrue: tengo.TrueValue, parser.OpFalse: tengo.FalseValue, parser.OpNull: tengo.UndefinedValue}[op]
		case parser.OpLNot, parser.OpEqual, parser.OpNotEqual:
		default:
			return nil, false
		}
		code = append(code, t)
		i = next
	}
	for i := range code {
		switch code[i].op {
		case parser.OpJumpFalsy, parser.OpAndJump, parser.OpOrJump, parser.OpJump:
			j, ok := at[code[i].arg]
			if !ok {
				return nil, false
			}
			code[i].arg = j
		}
	}
	return code, true
}

// check follows every path through t's code with the kinds of the values
// on the stack, and reports whether every path ends in a return with no
// operation that can fail: no ordering (<, <=, >, >=) of kinds Tengo or
// pinsh's Time cannot order, no stack underflow, no running off the end,
// and fewer orderings on a path than the session's allocation limit
// (Tengo counts each as an allocation). Paths only go forward, so there
// are finitely many; too many, and t is refused.
func (t *FieldTest) check(kinds []Kinds, maxAllocs int64) bool {
	type state struct {
		pc     int
		stack  []Kinds
		orders int64
	}
	work := []state{{}}
	for seen := 0; len(work) > 0; seen++ {
		if seen == fieldTestMaxStates {
			return false
		}
		st := work[len(work)-1]
		work = work[:len(work)-1]
		for {
			if st.pc >= len(t.code) || len(st.stack) > fieldTestMaxDepth {
				return false
			}
			in := t.code[st.pc]
			st.pc++
			pop := func(n int) bool {
				if len(st.stack) < n {
					return false
				}
				st.stack = st.stack[:len(st.stack)-n]
				return true
			}
			push := func(k Kinds) { st.stack = append(st.stack[:len(st.stack):len(st.stack)], k) }
			switch in.op {
			case opField:
				t.reads |= 1 << in.arg
				var k Kinds
				if in.arg < len(kinds) {
					k = kinds[in.arg]
				}
				push(k)
			case parser.OpConstant:
				push(KindOf(in.konst))
			case parser.OpLNot:
				if !pop(1) {
					return false
				}
				push(KindBool)
			case parser.OpEqual, parser.OpNotEqual:
				if !pop(2) {
					return false
				}
				push(KindBool)
			case parser.OpBinaryOp:
				n := len(st.stack)
				if n < 2 || !orderable(st.stack[n-2], st.stack[n-1]) {
					return false
				}
				if st.orders++; st.orders >= maxAllocs {
					return false
				}
				pop(2)
				push(KindBool)
			case parser.OpJump:
				st.pc = in.arg
			case parser.OpJumpFalsy:
				if !pop(1) {
					return false
				}
				work = append(work, state{in.arg, st.stack, st.orders})
			case parser.OpAndJump, parser.OpOrJump:
				// One path jumps with the value, the other drops it.
				if len(st.stack) < 1 {
					return false
				}
				work = append(work, state{in.arg, st.stack, st.orders})
				pop(1)
			case parser.OpReturn:
				if in.arg == 1 && len(st.stack) < 1 {
					return false
				}
			}
			if in.op == parser.OpReturn {
				break
			}
		}
	}
	return true
}

// orderable reports whether every value of kinds l can be ordered against
// every value of kinds r (l < r and the like) without an error: numbers
// with numbers, strings with strings, pinsh times with times and with
// undefined (as never, see Time).
func orderable(l, r Kinds) bool {
	if l == 0 || r == 0 {
		return false
	}
	for k := Kinds(1); k != 0; k <<= 1 {
		if l&k == 0 {
			continue
		}
		var ok Kinds
		switch k {
		case KindInt, KindFloat:
			ok = KindInt | KindFloat
		case KindString:
			ok = KindString
		case KindTime:
			ok = KindTime | KindUndefined
		}
		if r&^ok != 0 {
			return false
		}
	}
	return true
}

// Reads reports whether the test reads field i.
func (t *FieldTest) Reads(i int) bool { return i < 64 && t.reads&(1<<i) != 0 }

// Test reports whether the function is truthy for the record whose fields f
// makes (under the rules of Fields.Field). An operation that fails despite
// check (a field of a kind its maker did not declare) makes Test report
// true and keeps the error for Err, so that the item goes on to where it
// is judged again or the caller stops.
func (t *FieldTest) Test(f Fields) bool {
	var stack [fieldTestMaxDepth + 1]tengo.Object
	sp := 0
	for pc := 0; ; {
		in := &t.code[pc]
		pc++
		switch in.op {
		case opField:
			v := f.Field(in.arg)
			if v == nil {
				v = tengo.UndefinedValue
			}
			stack[sp] = v
			sp++
		case parser.OpConstant:
			stack[sp] = in.konst
			sp++
		case parser.OpLNot:
			stack[sp-1] = truth(stack[sp-1].IsFalsy())
		case parser.OpEqual, parser.OpNotEqual:
			sp--
			eq := stack[sp-1].Equals(stack[sp])
			stack[sp-1] = truth(eq == (in.op == parser.OpEqual))
		case parser.OpBinaryOp:
			sp--
			res, err := stack[sp-1].BinaryOp(in.tok, stack[sp])
			if err != nil {
				t.err = fmt.Errorf("a pushed-down where function: %s %s %s: %w (a bug of pinsh: please report it)",
					stack[sp-1].TypeName(), in.tok, stack[sp].TypeName(), err)
				return true
			}
			stack[sp-1] = res
		case parser.OpJump:
			pc = in.arg
		case parser.OpJumpFalsy:
			sp--
			if stack[sp].IsFalsy() {
				pc = in.arg
			}
		case parser.OpAndJump:
			if stack[sp-1].IsFalsy() {
				pc = in.arg
			} else {
				sp--
			}
		case parser.OpOrJump:
			if stack[sp-1].IsFalsy() {
				sp--
			} else {
				pc = in.arg
			}
		case parser.OpReturn:
			return in.arg == 1 && !stack[sp-1].IsFalsy()
		}
	}
}

// Err returns the error of an operation that failed in Test, or nil.
func (t *FieldTest) Err() error { return t.err }

func truth(b bool) tengo.Object {
	if b {
		return tengo.TrueValue
	}
	return tengo.FalseValue
}
