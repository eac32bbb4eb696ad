package icpverify

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strings"
	"testing"
)

// verifyFiles are the files one Verify is read through, in order: each
// function its path reaches first, depth first in the order of the calls,
// lies in the file where the reader is or in one further down, so that
// following it never sends the reader back to a file already left.
var verifyFiles = []string{"verify.go", "identity.go", "website.go", "application.go", "servicecode.go", "quota.go", "alternatives.go"}

// sharedFiles hold what every operation uses (the Verifier, its errors,
// policies and observer, the store's types): a path may reach them at any
// point.
var sharedFiles = []string{"verifier.go", "errors.go", "policy.go", "profile.go", "observer.go", "store.go"}

func TestVerifyReadsDownward(t *testing.T) {
	funcs := parsePackage(t)
	var path []string // the functions of the path, in the order first reached
	seen := map[string]bool{}
	var walk func(name string)
	walk = func(name string) {
		f, ok := funcs[name]
		if !ok || seen[name] {
			return
		}
		seen[name] = true
		path = append(path, name)
		for _, callee := range f.calls {
			walk(callee)
		}
	}
	walk("Verifier.Verify")
	at := 0 // the index in verifyFiles of the file the reader is in
	for _, name := range path {
		file := funcs[name].file
		if slices.Contains(sharedFiles, file) {
			continue
		}
		i := slices.Index(verifyFiles, file)
		switch {
		case i < 0:
			t.Errorf("%s, on the path of Verify, is in %s, which is not one of its files", name, file)
		case i < at:
			t.Errorf("%s in %s is reached after the reader left it for %s", name, file, verifyFiles[at])
		default:
			at = i
		}
	}
	if at != len(verifyFiles)-1 {
		t.Errorf("the path of Verify ends in %s, not in %s: %v", verifyFiles[at], verifyFiles[len(verifyFiles)-1], path)
	}
}

// fn is a function or method of the package: its file and whom it calls,
// in the order of the calls.
type fn struct {
	file  string
	calls []string
}

// parsePackage reads the package's non-test files and names each
// function "F" and each method "T.M". A call is resolved by name: to the
// function called, to a method of the receiver's or a parameter's type,
// or, on any other value, to the package's only method of that name.
func parsePackage(t *testing.T) map[string]*fn {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string]*fn{}
	decls := map[string]*ast.FuncDecl{}
	byMethod := map[string][]string{} // method name -> "T.M"
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			key := fd.Name.Name
			if fd.Recv != nil {
				key = typeName(fd.Recv.List[0].Type) + "." + key
				byMethod[fd.Name.Name] = append(byMethod[fd.Name.Name], key)
			}
			funcs[key], decls[key] = &fn{file: name}, fd
		}
	}
	for key, fd := range decls {
		vars := map[string]string{} // receiver and parameters of a package type
		for _, l := range [][]*ast.Field{recvFields(fd), fd.Type.Params.List} {
			for _, field := range l {
				for _, n := range field.Names {
					vars[n.Name] = typeName(field.Type)
				}
			}
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			callee := ""
			switch f := ast.Unparen(call.Fun).(type) {
			case *ast.Ident:
				callee = f.Name
			case *ast.IndexExpr:
				if id, ok := f.X.(*ast.Ident); ok {
					callee = id.Name
				}
			case *ast.SelectorExpr:
				x, ok := f.X.(*ast.Ident)
				switch {
				case !ok:
				case vars[x.Name] != "":
					callee = vars[x.Name] + "." + f.Sel.Name
				case len(byMethod[f.Sel.Name]) == 1:
					callee = byMethod[f.Sel.Name][0]
				}
			}
			if _, ok := funcs[callee]; ok {
				funcs[key].calls = append(funcs[key].calls, callee)
			}
			return true
		})
	}
	return funcs
}

// recvFields returns the receiver of fd as a field list, nil for a
// function.
func recvFields(fd *ast.FuncDecl) []*ast.Field {
	if fd.Recv == nil {
		return nil
	}
	return fd.Recv.List
}

// typeName returns the name of a type expression T or *T, and "" for any
// other.
func typeName(e ast.Expr) string {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}
