package lang

import (
	"reflect"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"
)

// vmPositions returns the source positions of a VM's call frames, innermost
// first. For the innermost frame it is the position of the instruction being
// executed (a panic), or, if next is set, of the one to execute next (an
// abort, which stops between instructions: after a loop's jump that is the
// loop's first statement).
//
// Tengo keeps the instruction pointer and frames unexported and reports
// positions only for errors it returns itself. A VM that panicked (integer
// division by zero, a panicking Go function, stack exhaustion, an aborting
// stream iterator) or was aborted has no such error, so this reads the
// frames by reflection, read-only. The layout is that of the tengo version
// in go.mod, which TestVMPositionsLayout pins; if it ever changes, this
// returns nil and errors merely lose their position.
func vmPositions(vm *tengo.VM, next bool) (out []parser.Pos) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	v := reflect.ValueOf(vm).Elem()
	ip := int(v.FieldByName("ip").Int())
	n := int(v.FieldByName("framesIndex").Int())
	frames := v.FieldByName("frames")
	for i := n - 1; i >= 0; i-- {
		f := frames.Index(i)
		fn := f.FieldByName("fn")
		// ip is at the last byte read of the current instruction; an outer
		// frame's ip is saved at the last operand byte of its call.
		fip := int(f.FieldByName("ip").Int())
		if i == n-1 {
			fip = ip // the current frame's ip lives in the VM
			if next && fip+1 < fn.Elem().FieldByName("Instructions").Len() {
				fip++
			}
		}
		if p := sourcePos(fn.Elem().FieldByName("SourceMap"), fip); p != parser.NoPos {
			out = append(out, p)
		}
	}
	return out
}

// sourcePos is tengo.CompiledFunction.SourcePos on a reflected source map,
// except that it passes over instructions mapped to no position (Tengo emits
// the 1 of x++ so).
func sourcePos(sourceMap reflect.Value, ip int) parser.Pos {
	for ; ip >= 0; ip-- {
		if p := sourceMap.MapIndex(reflect.ValueOf(ip)); p.IsValid() && p.Int() != int64(parser.NoPos) {
			return parser.Pos(p.Int())
		}
	}
	return parser.NoPos
}
