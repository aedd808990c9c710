package certs

import "time"

// SetLeafClock lets certs_test move time to reach expiry edges without
// waiting for them.
func SetLeafClock(l *Leaves, now func() time.Time) { l.now = now }

// SetAfterMiss runs hook between Get's cache miss and its singleflight
// call.
func SetAfterMiss(l *Leaves, hook func()) { l.afterMiss = hook }
