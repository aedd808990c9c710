package view

import (
	"cmp"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Order is what a View is sorted by. Every order breaks ties by arrival,
// so it is total and a flow's position can be found by binary search.
type Order int

const (
	OrderTime Order = iota
	OrderMethod
	OrderURL
	OrderStatus
	OrderSize
	OrderDuration
	numOrders
	OrderNone Order = -1
)

var orderNames = [...]string{"time", "method", "url", "status", "size", "duration"}

func (o Order) String() string {
	if o >= 0 && int(o) < len(orderNames) {
		return orderNames[o]
	}
	return "none"
}

// Next is the order after o in the cycle the order key walks.
func (o Order) Next() Order { return (o + 1) % numOrders }

// compare orders a and b by o, then by arrival.
func compare(o Order, a, b *flowstore.Summary) int {
	if c := compareKey(o, a, b); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

func compareKey(o Order, a, b *flowstore.Summary) int {
	switch o {
	case OrderMethod:
		return strings.Compare(a.Method, b.Method)
	case OrderURL:
		if c := strings.Compare(a.Scheme(), b.Scheme()); c != 0 {
			return c
		}
		if c := strings.Compare(a.Host, b.Host); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Port, b.Port); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	case OrderStatus:
		return cmp.Compare(a.Status, b.Status)
	case OrderSize:
		return cmp.Compare(a.Size, b.Size)
	case OrderDuration:
		return cmp.Compare(a.Duration(), b.Duration())
	}
	return 0
}
