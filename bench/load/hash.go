package load

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id parameters of a stored hash.
type Argon2Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
	KeyLen      uint32
}

func (p Argon2Params) String() string {
	return fmt.Sprintf("m=%d KiB, t=%d, p=%d", p.MemoryKiB, p.Iterations, p.Parallelism)
}

// ParsePHC reads the parameters of an argon2id hash in PHC string format,
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, as the service stores them.
func ParsePHC(s string) (Argon2Params, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Argon2Params{}, errors.New("load: not an argon2id PHC string")
	}
	var p Argon2Params
	var par uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &par); err != nil {
		return Argon2Params{}, fmt.Errorf("load: argon2id parameters %q: %w", parts[3], err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return Argon2Params{}, fmt.Errorf("load: argon2id key: %w", err)
	}
	if p.MemoryKiB == 0 || p.Iterations == 0 || par == 0 || par > 255 || len(key) == 0 {
		return Argon2Params{}, fmt.Errorf("load: argon2id parameters %q out of range", parts[3])
	}
	p.Parallelism, p.KeyLen = uint8(par), uint32(len(key))
	return p, nil
}

// HashTime returns the median time of one argon2id hash with p, over n
// hashes after one untimed warm-up, in this process.
func HashTime(p Argon2Params, n int) time.Duration {
	pw, salt := []byte("correct horse battery staple"), make([]byte, 16)
	argon2.IDKey(pw, salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
	times := make([]time.Duration, max(n, 1))
	for i := range times {
		t0 := time.Now()
		argon2.IDKey(pw, salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
		times[i] = time.Since(t0)
	}
	slices.Sort(times)
	return times[len(times)/2]
}

// HashThroughput returns the hashes per second that workers goroutines
// achieve together in about d: the hash-bound limit as measured, with the
// memory bandwidth the hashes share.
func HashThroughput(p Argon2Params, workers int, d time.Duration) float64 {
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range max(workers, 1) {
		wg.Go(func() {
			pw, salt := []byte("correct horse battery staple"), make([]byte, 16)
			n := 0
			for time.Since(start) < d {
				argon2.IDKey(pw, salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
				n++
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	return float64(total) / time.Since(start).Seconds()
}
