// Command funclen enforces the house's function-length rule (ARCHITECTURE.md): no production
// function or function literal longer than -max lines (80). It walks the given folders (default
// the module's cmd, plugins, pkg, internal, authenticator and hack), skips tests, testdata,
// vendor and generated code, prints one "path:line name lines" a line for each long function,
// and exits 1 when there is any. `make funclen` runs it.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// defaultRoots are the folders of production code.
var defaultRoots = []string{"cmd", "plugins", "pkg", "internal", "authenticator", "hack"}

func main() {
	max := flag.Int("max", 80, "longest allowed function body, in lines")
	flag.Parse()
	roots := flag.Args()
	if len(roots) == 0 {
		roots = defaultRoots
	}
	long, err := check(roots, *max)
	if err != nil {
		fmt.Fprintln(os.Stderr, "funclen:", err)
		os.Exit(2)
	}
	report(os.Stdout, long, *max)
	if len(long) > 0 {
		os.Exit(1)
	}
}

// longFunc is a function whose body is longer than allowed.
type longFunc struct {
	pos   token.Position
	name  string
	lines int
}

func report(w io.Writer, long []longFunc, max int) {
	for _, f := range long {
		fmt.Fprintf(w, "%s:%d %s %d\n", f.pos.Filename, f.pos.Line, f.name, f.lines)
	}
	if len(long) > 0 {
		fmt.Fprintf(w, "funclen: %d functions longer than %d lines; split them by step\n", len(long), max)
	}
}

// check returns the functions under roots whose body is longer than max lines.
func check(roots []string, max int) ([]longFunc, error) {
	var out []longFunc
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != root && skipDir(d.Name()) {
					return filepath.SkipDir
				}
				return nil
			}
			if !isProductionGo(d.Name()) {
				return nil
			}
			found, err := checkFile(path, max)
			out = append(out, found...)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func skipDir(name string) bool {
	return name == "vendor" || name == "testdata" || name == "generated" || strings.HasPrefix(name, ".")
}

func isProductionGo(name string) bool {
	return strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") && !strings.HasPrefix(name, "zz_generated")
}

// checkFile returns the long functions and function literals of one file; generated files
// (with a "Code generated ... DO NOT EDIT." comment) have none.
func checkFile(path string, max int) ([]longFunc, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	if ast.IsGenerated(file) {
		return nil, nil
	}
	var out []longFunc
	ast.Inspect(file, func(n ast.Node) bool {
		var body *ast.BlockStmt
		name := "func literal"
		switch fn := n.(type) {
		case *ast.FuncDecl:
			body, name = fn.Body, fn.Name.Name
		case *ast.FuncLit:
			body = fn.Body
		}
		if body == nil {
			return true
		}
		start := fset.Position(body.Lbrace)
		if lines := fset.Position(body.Rbrace).Line - start.Line + 1; lines > max {
			out = append(out, longFunc{pos: start, name: name, lines: lines})
		}
		return true
	})
	return out, nil
}
