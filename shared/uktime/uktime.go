// Package uktime is the UK's time zone, Europe/London, in which people
// are shown times (the digest, the form's list of MPs, the retry times).
//
// It holds only Europe/London's TZif data (London.tzif, a few KB, from the
// Go toolchain's copy of the tz database) instead of importing time/tzdata,
// which embeds the whole database (about 450 KB) in every binary: Lambda's
// provided.al2023 runtime has no /usr/share/zoneinfo to load it from. The
// tests compare it with the full database over every hour from 1900 to
// 2100 and around each change of offset.
package uktime

import (
	_ "embed"
	"sync"
	"time"
)

//go:generate go test -run TestTZDataIsTheDatabases -update

//go:embed London.tzif
var tzif []byte

// London is Europe/London (GMT in winter, BST in summer). It is parsed on
// first use, not at init.
var London = sync.OnceValue(func() *time.Location {
	l, err := time.LoadLocationFromTZData("Europe/London", tzif)
	if err != nil {
		panic("uktime: London.tzif: " + err.Error()) // checked by the tests
	}
	return l
})
