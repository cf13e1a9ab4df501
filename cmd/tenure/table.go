package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// table is a patronictl-style box table: a title set into the top border,
// a header row, and right-aligned numeric columns.
type table struct {
	title   string
	header  []string
	right   map[int]bool // columns aligned right
	rows    [][]string
	footers []string
}

func (t *table) widths() []int {
	w := make([]int, len(t.header))
	for i, h := range t.header {
		w[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, cell := range r {
			w[i] = max(w[i], utf8.RuneCountInString(cell))
		}
	}
	return w
}

func (t *table) write(out io.Writer) {
	w := t.widths()
	segs := make([]string, len(w))
	for i, n := range w {
		segs[i] = strings.Repeat("-", n+2)
	}
	border := "+" + strings.Join(segs, "+") + "+"
	top := border
	if t.title != "" {
		top = "+ " + t.title + " "
		if len(top) < len(border) {
			top += border[len(top):]
		} else {
			top += "+"
		}
	}
	fmt.Fprintln(out, top)
	t.row(out, w, t.header)
	fmt.Fprintln(out, border)
	for _, r := range t.rows {
		t.row(out, w, r)
	}
	fmt.Fprintln(out, border)
	for _, f := range t.footers {
		fmt.Fprintln(out, " "+f)
	}
}

func (t *table) row(out io.Writer, w []int, cells []string) {
	var b strings.Builder
	b.WriteString("|")
	for i, cell := range cells {
		pad := strings.Repeat(" ", w[i]-utf8.RuneCountInString(cell))
		if t.right[i] {
			b.WriteString(" " + pad + cell + " |")
		} else {
			b.WriteString(" " + cell + pad + " |")
		}
	}
	fmt.Fprintln(out, b.String())
}
