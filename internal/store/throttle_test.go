package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
)

// Throttle counters: created empty by the locking upsert, written whole,
// read back in UTC with zero times kept zero, deleted once forgotten.
func TestThrottleCounters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := context.Background()
		a, b := hash("counter a"), hash("counter b")
		var created []auth.ThrottleCounter
		err := st.InTx(ctx, func(tx auth.Tx) error {
			var err error
			created, err = tx.LockThrottleCounters(ctx, [][]byte{a, b}, base)
			return err
		})
		if err != nil || len(created) != 2 {
			t.Fatalf("LockThrottleCounters = %+v, %v", created, err)
		}
		for _, c := range created {
			if c.Failures != 0 || c.InFlight != 0 || !c.InFlightUntil.IsZero() || !c.LockedUntil.IsZero() || !c.FamiliarUntil.IsZero() {
				t.Errorf("new counter %+v, want empty", c)
			}
			wantTime(t, "new counter reset", c.ResetAt, base)
		}
		put := auth.ThrottleCounter{
			Key: a, Failures: 7, InFlight: 3, InFlightUntil: base.Add(2 * time.Minute).In(offset),
			LockedUntil: base.Add(time.Minute).In(offset), ResetAt: base.Add(time.Hour),
		}
		if err := st.PutThrottleCounters(ctx, []auth.ThrottleCounter{put}); err != nil {
			t.Fatal(err)
		}
		got, err := st.ThrottleCounters(ctx, [][]byte{a, hash("missing")})
		if err != nil || len(got) != 1 || !slices.Equal(got[0].Key, a) || got[0].Failures != 7 || got[0].InFlight != 3 || !got[0].FamiliarUntil.IsZero() {
			t.Fatalf("ThrottleCounters = %+v, %v", got, err)
		}
		wantTime(t, "locked until", got[0].LockedUntil, base.Add(time.Minute))
		wantTime(t, "in flight until", got[0].InFlightUntil, base.Add(2*time.Minute))
		wantTime(t, "reset at", got[0].ResetAt, base.Add(time.Hour))

		// Locking an existing counter returns it unchanged.
		err = st.InTx(ctx, func(tx auth.Tx) error {
			again, err := tx.LockThrottleCounters(ctx, [][]byte{a}, base.Add(48*time.Hour))
			if err == nil && (len(again) != 1 || again[0].Failures != 7 || again[0].InFlight != 3 || !again[0].ResetAt.Equal(base.Add(time.Hour))) {
				t.Errorf("locking an existing counter changed it: %+v", again)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		n, err := st.DeleteExpiredThrottleCounters(ctx, base.Add(time.Minute), 10)
		if err != nil || n != 1 {
			t.Fatalf("DeleteExpiredThrottleCounters = %d, %v; want b only", n, err)
		}
		if left, _ := st.ThrottleCounters(ctx, [][]byte{a, b}); len(left) != 1 || !slices.Equal(left[0].Key, a) {
			t.Errorf("after deleting: %+v, want a only", left)
		}
	})
}
