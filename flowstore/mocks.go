package flowstore

import "fmt"

// LoadMocks hands set (the engine's SetMocks) the standing mocks that the
// store's flows carry, and notes in log how many, or why set refused them;
// with none, set is not called. Mocks travel with the flows they were made
// from, so a loaded file brings its mocks back.
func LoadMocks(store *Store, set func([]Mock) error, log *EventLog) {
	var carriers []*Flow
	store.Each(func(f *Flow) bool {
		if f.Mock != nil {
			carriers = append(carriers, f)
		}
		return true
	})
	mocks := MocksFrom(carriers)
	if len(mocks) == 0 {
		return
	}
	if err := set(mocks); err != nil {
		log.Add(LevelWarn, "load", "", "standing mocks: "+err.Error())
		return
	}
	log.Add(LevelInfo, "load", "", fmt.Sprintf("%d standing mock(s) loaded", len(mocks)))
}
