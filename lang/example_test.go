package lang_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/lang"
)

var userSchema = lang.NewSchema("user", "identity", "display_name", "is_pin_set")

// exampleBuiltins is a minimal builtin table: a source, a stage and a sink.
func exampleBuiltins() []*lang.Builtin {
	return []*lang.Builtin{
		{
			Name: "get_users", Kind: lang.Source, Sig: "get_users()", Doc: "All users.",
			Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
				var users []tengo.Object
				for i, name := range []string{"Ken Myer", "Pilar Ackerman", "Aidan Delaney"} {
					id := "sip:" + strings.ToLower(strings.Fields(name)[0]) + "@litwareinc.com"
					pin := tengo.FalseValue
					if i < 2 {
						pin = tengo.TrueValue
					}
					users = append(users, lang.NewRecord(userSchema,
						[]tengo.Object{&tengo.String{Value: id}, &tengo.String{Value: name}, pin}, i))
				}
				return env.Items(users), nil
			},
		},
		{
			Name: "where", Kind: lang.Stage, Sig: "where(pred)", Doc: "Keeps the items pred accepts.",
			Examples: []lang.Example{{Code: `get_users() | where({is_pin_set: true}) | count`, Output: "2"}},
			Run: func(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
				if len(args) != 1 {
					return nil, errors.New("want one predicate: a function or a map of field values")
				}
				pred, err := env.Predicate(args[0])
				if err != nil {
					return nil, err
				}
				return env.Filter(in, pred), nil
			},
		},
		{
			Name: "count", Kind: lang.Sink, Sig: "count", Doc: "Counts the items.",
			Run: func(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
				n := 0
				for {
					_, ok, err := in.Next(env.Context())
					if err != nil {
						return nil, err
					}
					if !ok {
						return &tengo.Int{Value: int64(n)}, nil
					}
					n++
				}
			},
		},
	}
}

func Example() {
	s, err := lang.NewSession(lang.Options{
		Stdout:   os.Stdout,
		Format:   lang.Table,
		Builtins: exampleBuiltins(),
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	err = s.Eval(ctx, "example.tengo", []byte(`
with_pin := where(func(u) { return u.is_pin_set })
get_users() | with_pin
n := get_users() | with_pin | count
fmt := import("fmt")
fmt.println(n, " users have a PIN")
`))
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// identity                  display_name    is_pin_set
	// --------                  ------------    ----------
	// sip:ken@litwareinc.com    Ken Myer        true
	// sip:pilar@litwareinc.com  Pilar Ackerman  true
	// 2 users have a PIN
}

func ExampleError_Detail() {
	s, _ := lang.NewSession(lang.Options{Builtins: exampleBuiltins()})
	err := s.Eval(context.Background(), "script.tengo", []byte(`users := get_users()
limit := 3
n := users | where(func(u) { return u.IsPinSet < limit }) | count`))
	var e *lang.Error
	if errors.As(err, &e) {
		fmt.Print(e.Detail())
		fmt.Println(e.Kind)
	}
	// Output:
	// script.tengo:3:39: user record has no field "IsPinSet"; did you mean is_pin_set? (processing sip:ken@litwareinc.com)
	//     n := users | where(func(u) { return u.IsPinSet < limit }) | count
	//                                           ^
	//     called from script.tengo:3:59
	// runtime error
}
