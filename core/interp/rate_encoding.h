// Deterministic rate (Bernoulli) encoding shared by the reference interpreter
// and the chip simulators: they must produce the same spikes bit for bit.
//
// For time step t (0-based), element index i within ONE sample (row-major over
// the per-sample shape; the position of the sample in the batch plays no role)
// and the op's `seed` attribute:
//
//   h     = splitmix64(seed ^ (t * 0x9E3779B97F4A7C15) ^ (i * 0xBF58476D1CE4E5B9))   (uint64, wrapping)
//   u     = (h >> 40) * 2^-24          24 random bits, exact in float, u in [0, 1)
//   spike = u < clamp(x, 0, 1)          so x <= 0 never spikes, x >= 1 always spikes
//
// splitmix64(z) is Vigna's SplitMix64 output for state z:
//   z += 0x9E3779B97F4A7C15; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
//   z = (z ^ (z >> 27)) * 0x94D049BB133111EB; return z ^ (z >> 31).
#pragma once

#include <algorithm>
#include <cstdint>

namespace stc::interp {

constexpr uint64_t splitmix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The uniform number u in [0, 1) for (seed, t, i); a multiple of 2^-24.
constexpr float rateUniform(uint64_t seed, uint64_t t, uint64_t i)
{
    const uint64_t h = splitmix64(seed ^ (t * 0x9E3779B97F4A7C15ull) ^ (i * 0xBF58476D1CE4E5B9ull));
    return static_cast<float>(h >> 40) * (1.0f / 16777216.0f);
}

// 1 if the element fires at step t, else 0.
inline bool rateSpike(float x, uint64_t seed, uint64_t t, uint64_t i)
{
    return rateUniform(seed, t, i) < std::clamp(x, 0.0f, 1.0f);
}

} // namespace stc::interp
