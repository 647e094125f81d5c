// Per-core blob encoding (docs/package-format.md, "Per-core blob"). Version 3
// stores the long per-axon and per-neuron lists as arithmetic runs and the
// routing table grouped by destination input; versions 1 and 2 (plain lists)
// are still read.
#include "target/package.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace stc::target {

namespace {

constexpr uint32_t kCoreMagic = 0x43435453; // "STCC" little-endian
constexpr uint16_t kCoreVersion = 3;
constexpr uint8_t kListPlain = 0, kListRuns = 1;
constexpr uint8_t kRoutesPlain = 0, kRoutesGrouped = 1;
// Run-coded lists expand to more entries than the blob has bytes; a corrupt
// count must not allocate gigabytes.
constexpr uint32_t kMaxListLength = uint32_t(1) << 28;

// The blob being written: b.size() is room, the first `end` bytes are written
// (a put is a bounds check and a copy; growth doubles).
struct Out {
    std::vector<uint8_t> b;
    size_t end = 0;
    uint8_t* room(size_t n)
    {
        if (n > b.size() - end)
            b.resize(std::max(end + n, 2 * b.size()));
        uint8_t* at = b.data() + end;
        end += n;
        return at;
    }
    template <typename T> void put(T v)
    {
        std::memcpy(room(sizeof(T)), &v, sizeof(T)); // the formats are little-endian; so is every supported host
    }
    void bytes(const std::vector<uint8_t>& v)
    {
        if (!v.empty())
            std::memcpy(room(v.size()), v.data(), v.size());
    }
    std::vector<uint8_t> take()
    {
        b.resize(end);
        return std::move(b);
    }
};

struct In {
    const std::vector<uint8_t>& b;
    size_t pos = 0;
    bool bad = false;
    template <typename T> T get()
    {
        T v{};
        if (pos + sizeof(T) > b.size()) {
            bad = true;
            return v;
        }
        std::memcpy(&v, b.data() + pos, sizeof(T));
        pos += sizeof(T);
        return v;
    }
    bool bytes(std::vector<uint8_t>& v, size_t n)
    {
        if (pos + n > b.size())
            return bad = true, false;
        v.assign(b.begin() + long(pos), b.begin() + long(pos + n));
        pos += n;
        return true;
    }
    bool room(uint64_t n, size_t each) const { return n <= (b.size() - pos) / std::max<size_t>(1, each); }
};

// A maximal arithmetic progression v[begin + k] = first + k * stride; the
// stride must fit 32 bits. Greedy from `begin`.
template <typename Get>
size_t runEnd(size_t begin, size_t n, int64_t& stride, Get&& at)
{
    stride = 0;
    if (begin + 1 >= n)
        return n;
    stride = at(begin + 1) - at(begin);
    if (stride < std::numeric_limits<int32_t>::min() || stride > std::numeric_limits<int32_t>::max()) {
        stride = 0;
        return begin + 1;
    }
    size_t e = begin + 2;
    while (e < n && at(e) - at(e - 1) == stride)
        ++e;
    return e;
}

// A list of 32-bit integers: plain (4 B each) or as runs (first, stride,
// length: 12 B each), whichever is smaller.
template <typename T>
void putList(Out& o, const std::vector<T>& v)
{
    static_assert(sizeof(T) == 4);
    auto at = [&](size_t k) { return int64_t(v[k]); };
    size_t runs = 0;
    int64_t stride = 0;
    for (size_t k = 0; k < v.size() && runs * 3 < v.size(); k = runEnd(k, v.size(), stride, at))
        ++runs;
    if (runs * 3 >= v.size()) {
        o.put<uint8_t>(kListPlain);
        for (T x : v)
            o.put<T>(x);
        return;
    }
    o.put<uint8_t>(kListRuns);
    o.put<uint32_t>(uint32_t(runs));
    for (size_t k = 0; k < v.size();) {
        const size_t e = runEnd(k, v.size(), stride, at);
        o.put<T>(v[k]);
        o.put<int32_t>(int32_t(stride));
        o.put<uint32_t>(uint32_t(e - k));
        k = e;
    }
}

// Reads `n` values written by putList; false (with `why`) on a malformed list.
template <typename T>
bool getList(In& in, size_t n, std::vector<T>& v, std::string& why)
{
    const uint8_t mode = in.get<uint8_t>();
    if (mode == kListPlain) {
        if (!in.room(n, sizeof(T)))
            return why = "truncated list", false;
        v.resize(n);
        for (auto& x : v)
            x = in.get<T>();
        return true;
    }
    if (mode != kListRuns)
        return why = "unknown list coding " + std::to_string(mode), false;
    if (n > kMaxListLength)
        return why = "list of " + std::to_string(n) + " entries is over the reader's limit", false;
    v.resize(n);
    const uint32_t runs = in.get<uint32_t>();
    if (!in.room(runs, 12))
        return why = "truncated run list", false;
    size_t k = 0;
    for (uint32_t r = 0; r < runs; ++r) {
        const T first = in.get<T>();
        const int32_t stride = in.get<int32_t>();
        const uint32_t len = in.get<uint32_t>();
        if (len > n - k)
            return why = "runs longer than the list", false;
        for (uint32_t j = 0; j < len; ++j)
            v[k++] = T(uint32_t(first) + uint32_t(j) * uint32_t(stride)); // wraps like the writer's differences
    }
    if (k != n)
        return why = "runs shorter than the list", false;
    return true;
}

// Routes as written by buildPackage (sorted by local neuron, then
// destination) are grouped by destination input: per group (core, input)
// runs of (local neuron, axon) pairs in local-neuron order. Stable sorting
// the expanded groups by local neuron restores the table exactly, provided
// it was sorted and no input receives one neuron twice; anything else is
// stored plainly.
bool groupable(const std::vector<RouteEntry>& routes, int64_t neurons)
{
    for (size_t k = 0; k < routes.size(); ++k) {
        const RouteEntry& r = routes[k];
        if (r.localNeuron < 0 || r.localNeuron >= neurons || r.destCore < 0 || r.destInput < 0 || r.destAxon < 0)
            return false;
        if (k > 0) {
            const RouteEntry& p = routes[k - 1];
            if (std::tie(p.localNeuron, p.destCore, p.destInput) >= std::tie(r.localNeuron, r.destCore, r.destInput))
                return false; // unsorted, or one input fed twice by one neuron
        }
    }
    return true;
}

// A routing table grouped by destination input: per group (core, input) its
// (local neuron, axon) pairs, pairs[previous group's end, end), local neurons
// ascending inside a group.
struct RouteGroups {
    struct Group {
        int32_t core = 0, input = 0;
        size_t end = 0;
    };
    std::vector<Group> groups;
    std::vector<std::pair<int32_t, int32_t>> pairs;
};

// Stable by (destination core, input) (a sorted table keeps its neurons
// ascending in a group): a counting sort over keys base[core] + input
// (ascending in (core, input)) when they are dense enough, as for every
// table buildPackage makes; std::stable_sort otherwise. Same groups either way.
RouteGroups groupRoutes(const std::vector<RouteEntry>& routes)
{
    RouteGroups g;
    g.pairs.resize(routes.size());
    auto groupsFromPairs = [&](auto&& keyAt) { // the pairs are in group order
        for (size_t k = 0; k < routes.size(); ++k) {
            const auto [core, input] = keyAt(k);
            if (g.groups.empty() || g.groups.back().core != core || g.groups.back().input != input)
                g.groups.push_back({core, input, k});
            g.groups.back().end = k + 1;
        }
    };
    int32_t minCore = routes.empty() ? 0 : routes[0].destCore, maxCore = minCore, maxInput = 0;
    for (const RouteEntry& r : routes) {
        minCore = std::min(minCore, r.destCore);
        maxCore = std::max(maxCore, r.destCore);
        maxInput = std::max(maxInput, r.destInput);
    }
    const uint64_t limit = 4 * uint64_t(routes.size()) + 65536;
    std::vector<uint64_t> base; // per core from minCore: inputs per core, then prefix sums
    if (uint64_t(maxCore - minCore) + 2 <= limit && uint64_t(maxInput) + 1 <= limit) {
        base.assign(size_t(maxCore - minCore) + 2, 0);
        for (const RouteEntry& r : routes) {
            uint64_t& inputs = base[size_t(r.destCore - minCore) + 1];
            inputs = std::max<uint64_t>(inputs, uint64_t(r.destInput) + 1);
        }
        for (size_t c = 1; c < base.size(); ++c)
            base[c] += base[c - 1];
    }
    if (base.empty() || base.back() > limit) {
        std::vector<uint32_t> order(routes.size());
        for (size_t k = 0; k < order.size(); ++k)
            order[k] = uint32_t(k);
        std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
            return std::tie(routes[a].destCore, routes[a].destInput) < std::tie(routes[b].destCore, routes[b].destInput);
        });
        for (size_t k = 0; k < order.size(); ++k)
            g.pairs[k] = {routes[order[k]].localNeuron, routes[order[k]].destAxon};
        groupsFromPairs([&](size_t k) { return std::pair(routes[order[k]].destCore, routes[order[k]].destInput); });
        return g;
    }
    std::vector<uint32_t> next(size_t(base.back()) + 1, 0); // per key: start, then end once placed
    for (const RouteEntry& r : routes)
        ++next[size_t(base[size_t(r.destCore - minCore)] + uint64_t(r.destInput)) + 1];
    for (size_t k = 1; k < next.size(); ++k)
        next[k] += next[k - 1];
    for (const RouteEntry& r : routes)
        g.pairs[next[size_t(base[size_t(r.destCore - minCore)] + uint64_t(r.destInput))]++] = {r.localNeuron,
                                                                                                 r.destAxon};
    size_t begin = 0;
    for (size_t c = 0; c + 1 < base.size(); ++c)
        for (uint64_t key = base[c]; key < base[c + 1]; ++key)
            if (const size_t end = next[size_t(key)]; end > begin) {
                g.groups.push_back({int32_t(c) + minCore, int32_t(key - base[c]), end});
                begin = end;
            }
    return g;
}

void putRoutes(Out& o, const std::vector<RouteEntry>& routes, int64_t neurons)
{
    o.put<uint32_t>(uint32_t(routes.size()));
    if (!groupable(routes, neurons)) {
        o.put<uint8_t>(kRoutesPlain);
        for (const RouteEntry& r : routes) {
            o.put<uint32_t>(uint32_t(r.localNeuron));
            o.put<uint32_t>(uint32_t(r.destCore));
            o.put<uint32_t>(uint32_t(r.destInput));
            o.put<uint32_t>(uint32_t(r.destAxon));
        }
        return;
    }
    o.put<uint8_t>(kRoutesGrouped);
    const RouteGroups grouped = groupRoutes(routes);
    const auto& pairs = grouped.pairs;
    o.put<uint32_t>(uint32_t(grouped.groups.size()));
    size_t g = 0;
    for (const RouteGroups::Group& group : grouped.groups) {
        // Runs where both the neuron and the axon advance by constant strides.
        // Neurons ascend strictly inside a group; axons are non-negative int32,
        // so both differences fit 32 bits. The run count precedes the runs.
        o.put<uint32_t>(uint32_t(group.core));
        o.put<uint32_t>(uint32_t(group.input));
        const size_t countAt = o.end;
        o.put<uint32_t>(0);
        uint32_t runs = 0;
        for (size_t k = g; k < group.end; ++runs) {
            size_t e = k + 1;
            int32_t dn = 0, da = 0;
            if (e < group.end) {
                dn = pairs[e].first - pairs[k].first;
                da = pairs[e].second - pairs[k].second;
                while (e < group.end && pairs[e].first - pairs[e - 1].first == dn &&
                       pairs[e].second - pairs[e - 1].second == da)
                    ++e;
            }
            uint8_t* at = o.room(20);
            const uint32_t run[5] = {uint32_t(pairs[k].first), uint32_t(dn), uint32_t(pairs[k].second), uint32_t(da),
                                     uint32_t(e - k)};
            std::memcpy(at, run, sizeof run);
            k = e;
        }
        std::memcpy(o.b.data() + countAt, &runs, sizeof runs);
        g = group.end;
    }
}

bool getRoutes(In& in, uint16_t version, int64_t neurons, std::vector<RouteEntry>& routes, std::string& why)
{
    const uint32_t n = in.get<uint32_t>();
    const uint8_t mode = version >= 3 ? in.get<uint8_t>() : kRoutesPlain;
    if (mode == kRoutesPlain) {
        if (!in.room(n, 16))
            return why = "truncated routing table", false;
        routes.resize(n);
        for (auto& r : routes) {
            r.localNeuron = int32_t(in.get<uint32_t>());
            r.destCore = int32_t(in.get<uint32_t>());
            r.destInput = int32_t(in.get<uint32_t>());
            r.destAxon = int32_t(in.get<uint32_t>());
        }
        return true;
    }
    if (mode != kRoutesGrouped)
        return why = "unknown routing table coding " + std::to_string(mode), false;
    if (n > kMaxListLength)
        return why = "routing table of " + std::to_string(n) + " entries is over the reader's limit", false;
    std::vector<RouteEntry> byGroup;
    byGroup.reserve(std::min<size_t>(n, in.b.size()));
    const uint32_t groups = in.get<uint32_t>();
    if (!in.room(groups, 12))
        return why = "truncated routing groups", false;
    for (uint32_t g = 0; g < groups && !in.bad; ++g) {
        const int32_t core = int32_t(in.get<uint32_t>()), input = int32_t(in.get<uint32_t>());
        const uint32_t runs = in.get<uint32_t>();
        if (!in.room(runs, 20))
            return why = "truncated routing runs", false;
        for (uint32_t r = 0; r < runs; ++r) {
            const uint32_t n0 = in.get<uint32_t>(), dn = in.get<uint32_t>(), a0 = in.get<uint32_t>();
            const int32_t da = in.get<int32_t>();
            const uint32_t len = in.get<uint32_t>();
            if (len > n - byGroup.size())
                return why = "more routes than the table holds", false;
            for (uint32_t k = 0; k < len; ++k) {
                const int64_t local = int64_t(n0) + int64_t(k) * int64_t(dn);
                if (local >= neurons)
                    return why = "route from neuron " + std::to_string(local) + " outside the core", false;
                byGroup.push_back({int32_t(local), core, input, int32_t(uint32_t(a0) + k * uint32_t(da))});
            }
        }
    }
    if (byGroup.size() != n)
        return why = "fewer routes than the table holds", false;
    // Counting sort by local neuron (stable): the table's sorted order.
    std::vector<uint32_t> start(size_t(neurons) + 1, 0);
    for (const RouteEntry& r : byGroup)
        ++start[size_t(r.localNeuron) + 1];
    for (size_t k = 1; k < start.size(); ++k)
        start[k] += start[k - 1];
    routes.resize(n);
    for (const RouteEntry& r : byGroup)
        routes[start[size_t(r.localNeuron)]++] = r;
    return true;
}

} // namespace

std::vector<uint8_t> encodeCore(const PackageCore& c)
{
    Out o;
    { // room for the tables and the plain size of the lists: no regrowth for typical cores
        size_t size = 64 + 41 * c.slices.size() + 4 * c.bias.size();
        for (const PackageInput& in : c.inputs)
            size += 40 + in.table.size() + in.exponent.size() + 4 * (in.axonSource.size() + in.rowOffset.size());
        o.b.resize(size);
    }
    o.put<uint32_t>(kCoreMagic);
    o.put<uint16_t>(kCoreVersion);
    o.put<uint16_t>(0);
    o.put<uint32_t>(uint32_t(c.index));
    o.put<uint16_t>(uint16_t(c.coord.chip));
    o.put<uint16_t>(uint16_t(c.coord.tileX));
    o.put<uint16_t>(uint16_t(c.coord.tileY));
    o.put<uint16_t>(uint16_t(c.coord.core));
    o.put<uint32_t>(uint32_t(c.slices.size()));
    for (const Slice& s : c.slices) {
        o.put<uint32_t>(uint32_t(s.pop));
        o.put<int64_t>(s.f0);
        o.put<int64_t>(s.f1);
        o.put<uint8_t>(uint8_t(s.lo.size()));
        for (size_t a = 0; a < s.lo.size(); ++a) {
            o.put<int64_t>(s.lo[a]);
            o.put<int64_t>(s.hi[a]);
        }
    }
    o.put<uint32_t>(uint32_t(c.bias.size()));
    putList(o, c.bias);
    o.put<uint32_t>(uint32_t(c.inputs.size()));
    for (const PackageInput& in : c.inputs) {
        o.put<uint32_t>(uint32_t(in.slice));
        o.put<uint32_t>(uint32_t(in.projection));
        o.put<uint8_t>(uint8_t(in.encoding));
        o.put<int16_t>(int16_t(in.delay));
        o.put<uint32_t>(uint32_t(in.axonSource.size()));
        o.put<uint32_t>(uint32_t(in.rowOffset.size()));
        o.put<uint32_t>(uint32_t(in.table.size()));
        putList(o, in.axonSource);
        putList(o, in.rowOffset);
        o.bytes(in.table);
        o.put<uint32_t>(uint32_t(in.exponent.size()));
        o.bytes(in.exponent);
    }
    putRoutes(o, c.routes, int64_t(c.bias.size()));
    return o.take();
}

std::optional<PackageCore> decodeCore(const std::vector<uint8_t>& bytes, std::string* error)
{
    In in{bytes};
    auto fail = [&](const std::string& what) -> std::optional<PackageCore> {
        if (error)
            *error = what + " (at byte " + std::to_string(in.pos) + ")";
        return std::nullopt;
    };
    if (in.get<uint32_t>() != kCoreMagic)
        return fail("not an STC core blob (bad magic)");
    const uint16_t version = in.get<uint16_t>();
    if (version < 1 || version > kCoreVersion)
        return fail("unsupported core blob version " + std::to_string(version) + " (this reader knows 1 to " +
                    std::to_string(kCoreVersion) + ")");
    in.get<uint16_t>();
    PackageCore c;
    c.index = int32_t(in.get<uint32_t>());
    c.coord.chip = in.get<uint16_t>();
    c.coord.tileX = in.get<uint16_t>();
    c.coord.tileY = in.get<uint16_t>();
    c.coord.core = in.get<uint16_t>();
    const uint32_t ns = in.get<uint32_t>();
    if (!in.room(ns, 17))
        return fail("truncated slice table");
    for (uint32_t k = 0; k < ns && !in.bad; ++k) {
        Slice s;
        s.pop = int32_t(in.get<uint32_t>());
        s.f0 = in.get<int64_t>();
        s.f1 = in.get<int64_t>();
        const uint8_t rank = in.get<uint8_t>();
        for (uint8_t a = 0; a < rank; ++a) {
            s.lo.push_back(in.get<int64_t>());
            s.hi.push_back(in.get<int64_t>());
        }
        c.slices.push_back(std::move(s));
    }
    std::string why;
    const uint32_t nb = in.get<uint32_t>();
    if (version >= 3) {
        if (!getList(in, nb, c.bias, why))
            return fail("neuron table: " + why);
    } else {
        if (!in.room(nb, 4))
            return fail("truncated neuron table");
        c.bias.resize(nb);
        for (auto& b : c.bias)
            b = in.get<int32_t>();
    }
    const uint32_t ni = in.get<uint32_t>();
    for (uint32_t k = 0; k < ni && !in.bad; ++k) {
        PackageInput pi;
        pi.slice = int32_t(in.get<uint32_t>());
        pi.projection = int32_t(in.get<uint32_t>());
        const uint8_t enc = in.get<uint8_t>();
        if (enc > uint8_t(Encoding::ConvShared))
            return fail("unknown synapse encoding " + std::to_string(enc));
        pi.encoding = Encoding(enc);
        pi.delay = in.get<int16_t>();
        const uint32_t axons = in.get<uint32_t>();
        const uint32_t rows = version >= 3 ? in.get<uint32_t>() : axons;
        const uint32_t tableBytes = in.get<uint32_t>();
        if (version >= 3) {
            if (!getList(in, axons, pi.axonSource, why) || !getList(in, rows, pi.rowOffset, why))
                return fail("axon table: " + why);
        } else {
            if (!in.room(axons, 8))
                return fail("truncated axon table");
            pi.axonSource.resize(axons);
            pi.rowOffset.resize(axons);
            for (auto& a : pi.axonSource)
                a = in.get<int32_t>();
            for (auto& r : pi.rowOffset)
                r = in.get<uint32_t>();
        }
        if (!in.bytes(pi.table, tableBytes))
            return fail("truncated synapse table");
        if (version >= 2 && !in.bytes(pi.exponent, in.get<uint32_t>()))
            return fail("truncated exponent table");
        c.inputs.push_back(std::move(pi));
    }
    if (in.bad)
        return fail("truncated core blob");
    if (!getRoutes(in, version, int64_t(c.bias.size()), c.routes, why))
        return fail(why);
    if (in.bad)
        return fail("truncated core blob");
    if (in.pos != bytes.size())
        return fail("trailing bytes after the routing table");
    return c;
}

} // namespace stc::target
