package kube

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"k8s.io/client-go/util/jsonpath"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
)

// PrintTemplate prints v for -o jsonpath=TEMPLATE or -o custom-columns=SPEC, as kubectl does.
// v is anything that encodes to JSON: an API object, a list, or a command's own result. For
// custom-columns a list (a JSON array, or an object with "items") gives one row per element.
func PrintTemplate(w io.Writer, o *cli.Output, v any) error {
	data, err := toJSONValue(v)
	if err != nil {
		return err
	}
	switch o.Name() {
	case cli.FormatJSONPath:
		return printJSONPath(w, o.Template(), data)
	case cli.FormatCustomColumns:
		return printColumns(w, o.Template(), data, o.NoHeaders)
	}
	return fmt.Errorf("-o %s is not a template format", o.Name())
}

func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	var data any
	if err := json.Unmarshal(b, &data); err != nil {
		return nil, fmt.Errorf("decode output: %w", err)
	}
	return data, nil
}

// relaxed turns kubectl's short forms ("{.x}" or ".x") into a jsonpath template.
func relaxed(tmpl string) string {
	t := strings.TrimSpace(tmpl)
	if !strings.HasPrefix(t, "{") && strings.HasPrefix(t, ".") {
		t = "{" + t + "}"
	}
	return t
}

func printJSONPath(w io.Writer, tmpl string, data any) error {
	jp := jsonpath.New("output").AllowMissingKeys(true)
	if err := jp.Parse(relaxed(tmpl)); err != nil {
		return cli.UsageErrorf("-o jsonpath: bad template %q: %v", tmpl, err)
	}
	if err := jp.Execute(w, data); err != nil {
		return fmt.Errorf("-o jsonpath: %w", err)
	}
	_, err := fmt.Fprintln(w)
	return err
}

type column struct {
	header string
	path   *jsonpath.JSONPath
}

// parseColumns parses "NAME:.path,OTHER:.path".
func parseColumns(spec string) ([]column, error) {
	var cols []column
	for _, part := range strings.Split(spec, ",") {
		header, path, ok := strings.Cut(part, ":")
		if !ok || strings.TrimSpace(header) == "" || strings.TrimSpace(path) == "" {
			return nil, cli.UsageErrorf("-o custom-columns: %q is not HEADER:JSONPATH (e.g. NAME:.metadata.name)", part)
		}
		jp := jsonpath.New(header).AllowMissingKeys(true)
		if err := jp.Parse(relaxed(path)); err != nil {
			return nil, cli.UsageErrorf("-o custom-columns: bad path %q: %v", path, err)
		}
		cols = append(cols, column{header: strings.TrimSpace(header), path: jp})
	}
	return cols, nil
}

func printColumns(w io.Writer, spec string, data any, noHeaders bool) error {
	cols, err := parseColumns(spec)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	if !noHeaders {
		headers := make([]string, len(cols))
		for i, c := range cols {
			headers[i] = c.header
		}
		fmt.Fprintln(tw, strings.Join(headers, "\t"))
	}
	for _, item := range rows(data) {
		cells := make([]string, len(cols))
		for i, c := range cols {
			var b strings.Builder
			if err := c.path.Execute(&b, item); err != nil {
				return fmt.Errorf("-o custom-columns: column %s: %w", c.header, err)
			}
			cells[i] = b.String()
			if cells[i] == "" {
				cells[i] = "<none>"
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// rows returns the elements of a list (an array or an object with "items"), else data alone.
func rows(data any) []any {
	switch d := data.(type) {
	case []any:
		return d
	case map[string]any:
		if items, ok := d["items"].([]any); ok {
			return items
		}
	}
	return []any{data}
}
