package flowlist

import (
	"cmp"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Order is what the list is sorted by. Every order breaks ties by arrival,
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
func compare(o Order, a, b *flowstore.Flow) int {
	if c := compareKey(o, a, b); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

func compareKey(o Order, a, b *flowstore.Flow) int {
	switch o {
	case OrderMethod:
		return strings.Compare(method(a), method(b))
	case OrderURL:
		ra, rb := a.Request, b.Request
		if ra == nil || rb == nil {
			return cmp.Compare(boolInt(ra != nil), boolInt(rb != nil))
		}
		if c := strings.Compare(ra.Scheme, rb.Scheme); c != 0 {
			return c
		}
		if c := strings.Compare(ra.Host, rb.Host); c != 0 {
			return c
		}
		if c := cmp.Compare(ra.Port, rb.Port); c != 0 {
			return c
		}
		return strings.Compare(ra.Path, rb.Path)
	case OrderStatus:
		return cmp.Compare(status(a), status(b))
	case OrderSize:
		return cmp.Compare(size(a), size(b))
	case OrderDuration:
		return cmp.Compare(a.Timings.Duration(), b.Timings.Duration())
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func method(f *flowstore.Flow) string {
	if f.Request == nil {
		return ""
	}
	return f.Request.Method
}

func status(f *flowstore.Flow) int {
	if f.Response == nil {
		return 0
	}
	return f.Response.Status
}

func size(f *flowstore.Flow) int64 {
	if f.Response == nil {
		return -1
	}
	return f.Response.Body.Size
}
