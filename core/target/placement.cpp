#include "target/placement.h"

#include <set>

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>

namespace stc::target {

namespace {

// Block of chips on the board: the smallest-perimeter box holding `n` chips.
std::array<int, 3> chipBlock(const ChipDescriptor& chip, int n)
{
    std::array<int, 3> best{chip.chipGrid[0], chip.chipGrid[1], chip.chipGrid[2]};
    int bestScore = 1 << 30;
    for (int a = 1; a <= chip.chipGrid[0]; ++a)
        for (int b = 1; b <= chip.chipGrid[1]; ++b)
            for (int c = 1; c <= chip.chipGrid[2]; ++c) {
                if (a * b * c < n)
                    continue;
                const int score = (a + b + c) * 1000 + a * b * c;
                if (score < bestScore) {
                    bestScore = score;
                    best = {a, b, c};
                }
            }
    return best;
}

// Uniform doubles from the raw 64-bit engine (the standard distributions are
// implementation-defined; these keep placements identical across platforms).
struct Rng {
    std::mt19937_64 eng;
    explicit Rng(uint64_t seed) : eng(seed) {}
    double uniform() { return double(eng() >> 11) * (1.0 / 9007199254740992.0); }
    int64_t below(int64_t n) { return n <= 1 ? 0 : int64_t(eng() % uint64_t(n)); }
};

} // namespace

BoardLayout makeBoardLayout(const ChipDescriptor& chip, int chips)
{
    BoardLayout b;
    b.chips = std::max(1, std::min(chips, chip.maxChips()));
    b.tilesX = chip.tilesX;
    b.tilesY = chip.tilesY;
    const auto block = chipBlock(chip, b.chips);
    // Chips in serpentine order through the block, so consecutive chips are neighbours.
    for (int z = 0; z < block[2] && int(b.chipPos.size()) < b.chips; ++z)
        for (int yy = 0; yy < block[1] && int(b.chipPos.size()) < b.chips; ++yy) {
            const int y = (z % 2 == 0) ? yy : block[1] - 1 - yy;
            for (int xx = 0; xx < block[0] && int(b.chipPos.size()) < b.chips; ++xx) {
                const int x = ((yy + z) % 2 == 0) ? xx : block[0] - 1 - xx;
                b.chipPos.push_back({x, y, z});
            }
        }
    for (int c = 0; c < b.chips; ++c)
        for (int ty = 0; ty < chip.tilesY; ++ty)
            for (int k = 0; k < chip.tilesX; ++k) {
                const int tx = ty % 2 == 0 ? k : chip.tilesX - 1 - k;
                for (int core = 0; core < chip.coresPerTile; ++core) {
                    const CoreCoord cc{c, tx, ty, core};
                    if (!chip.isDead(cc))
                        b.cores.push_back(cc);
                }
            }
    return b;
}

std::array<int, 3> globalTile(const BoardLayout& b, const CoreCoord& c)
{
    const auto& cp = b.chipPos[size_t(c.chip)];
    return {cp[0] * b.tilesX + c.tileX, cp[1] * b.tilesY + c.tileY, cp[2]};
}

double messageCost(const ChipDescriptor& chip, const BoardLayout& b, const CoreCoord& from, const CoreCoord& to)
{
    if (from == to)
        return 0.0;
    const auto a = globalTile(b, from), z = globalTile(b, to);
    if (a == z)
        return chip.energyPj.spikeWithinTile;
    const auto& ca = b.chipPos[size_t(from.chip)];
    const auto& cz = b.chipPos[size_t(to.chip)];
    const int linksX = std::abs(ca[0] - cz[0]), linksY = std::abs(ca[1] - cz[1]), linksZ = std::abs(ca[2] - cz[2]);
    const int hx = std::abs(a[0] - z[0]) - linksX, hy = std::abs(a[1] - z[1]) - linksY;
    return hx * chip.energyPj.hopEw + hy * chip.energyPj.hopNs + (linksX + linksY + linksZ) * chip.energyPj.chipLink +
           chip.energyPj.spikeWithinTile;
}

std::vector<CoreCoord> placeCores(const ChipDescriptor& chip, const BoardLayout& board, int logicalCores,
                                  const Traffic& traffic, uint64_t seed, int iterations)
{
    const int64_t nPhys = int64_t(board.cores.size());
    std::vector<int64_t> pos(static_cast<size_t>(logicalCores));
    std::vector<int32_t> occupant(static_cast<size_t>(nPhys), -1);
    for (int l = 0; l < logicalCores && l < nPhys; ++l) {
        pos[size_t(l)] = l;
        occupant[size_t(l)] = l;
    }
    std::vector<std::vector<std::pair<int32_t, double>>> adj(static_cast<size_t>(logicalCores));
    for (const auto& [key, val] : traffic.edges) {
        if (key.first == key.second)
            continue;
        // Weight: spikes per step, plus a little per axon so silent links still pull together.
        const double w = val.first + 1e-3 * double(val.second);
        adj[size_t(key.first)].push_back({key.second, w});
        adj[size_t(key.second)].push_back({key.first, w});
    }
    // Precomputed coordinates: the annealing loop evaluates millions of costs.
    struct Phys {
        int x, y, z, cx, cy, cz, core;
    };
    std::vector<Phys> phys(static_cast<size_t>(nPhys));
    for (int64_t k = 0; k < nPhys; ++k) {
        const CoreCoord& c = board.cores[size_t(k)];
        const auto g = globalTile(board, c);
        const auto& cp = board.chipPos[size_t(c.chip)];
        phys[size_t(k)] = {g[0], g[1], g[2], cp[0], cp[1], cp[2], c.core};
    }
    const EventCosts& E = chip.energyPj;
    // Branch-free (the annealing evaluates it ~10^8 times; tile tests mispredict).
    // Within one tile every difference is 0, so the general sum is exactly
    // 0 + 0 + 0 + spikeWithinTile, the within-tile cost.
    auto cost = [&](int64_t a, int64_t b) {
        const Phys &p = phys[size_t(a)], &q = phys[size_t(b)];
        const int lx = std::abs(p.cx - q.cx), ly = std::abs(p.cy - q.cy), lz = std::abs(p.cz - q.cz);
        const double c = (std::abs(p.x - q.x) - lx) * E.hopEw + (std::abs(p.y - q.y) - ly) * E.hopNs +
                         (lx + ly + lz) * E.chipLink + E.spikeWithinTile;
        return a == b ? 0.0 : c;
    };
    auto costOf = [&](int32_t l, int64_t at, int32_t swapWith, int64_t swapAt) {
        double c = 0;
        for (const auto& [m, w] : adj[size_t(l)]) {
            const int64_t pm = m == swapWith ? swapAt : pos[size_t(m)];
            c += w * cost(at, pm);
        }
        return c;
    };
    if (iterations < 0)
        iterations = int(std::min<int64_t>(150000, 50 * int64_t(logicalCores)));
    if (logicalCores < 2 || iterations == 0)
        goto done;
    {
        Rng rng(seed);
        double total = 0;
        int64_t edges = 0;
        for (int32_t l = 0; l < logicalCores; ++l) {
            total += costOf(l, pos[size_t(l)], -1, 0);
            edges += int64_t(adj[size_t(l)].size());
        }
        const double t0 = edges ? 0.3 * total / double(edges) : 1.0;
        const int64_t window0 = std::max<int64_t>(8, nPhys / 2);
        for (int it = 0; it < iterations; ++it) {
            const double frac = double(it) / double(iterations);
            const double temp = t0 * std::pow(1e-3, frac);
            const int64_t window = std::max<int64_t>(4, int64_t(double(window0) * (1.0 - frac)));
            const int32_t l = int32_t(rng.below(logicalCores));
            const int64_t from = pos[size_t(l)];
            int64_t to = from + rng.below(2 * window + 1) - window;
            if (to < 0 || to >= nPhys || to == from)
                continue;
            const int32_t m = occupant[size_t(to)];
            double before = costOf(l, from, -1, 0), after = costOf(l, to, m, from);
            if (m >= 0) {
                before += costOf(m, to, -1, 0);
                after += costOf(m, from, l, to);
            }
            const double delta = after - before;
            if (delta <= 0 || rng.uniform() < std::exp(-delta / std::max(1e-12, temp))) {
                pos[size_t(l)] = to;
                occupant[size_t(to)] = l;
                occupant[size_t(from)] = m;
                if (m >= 0)
                    pos[size_t(m)] = from;
            }
        }
    }
done:
    std::vector<CoreCoord> out(static_cast<size_t>(logicalCores));
    for (int l = 0; l < logicalCores; ++l)
        out[size_t(l)] = board.cores[size_t(pos[size_t(l)])];
    return out;
}

namespace {

using Tile = std::array<int, 3>;

struct Mesh {
    const ChipDescriptor& chip;
    const BoardLayout& b;
    int maxX = 0, maxY = 0, maxZ = 0;
    int chipsX = 0, chipsY = 0;
    std::vector<int> chipOfPos; // chip at a board position (x, y, z), -1 if none: every route hop asks
    Mesh(const ChipDescriptor& c, const BoardLayout& bl) : chip(c), b(bl)
    {
        for (const auto& p : bl.chipPos) {
            maxX = std::max(maxX, (p[0] + 1) * bl.tilesX);
            maxY = std::max(maxY, (p[1] + 1) * bl.tilesY);
            maxZ = std::max(maxZ, p[2] + 1);
            chipsX = std::max(chipsX, p[0] + 1);
            chipsY = std::max(chipsY, p[1] + 1);
        }
        chipOfPos.assign(size_t(chipsX) * size_t(chipsY) * size_t(maxZ), -1);
        for (size_t k = bl.chipPos.size(); k-- > 0;) // the first chip at a position wins
            chipOfPos[posIndex(bl.chipPos[k][0], bl.chipPos[k][1], bl.chipPos[k][2])] = int(k);
    }
    size_t posIndex(int x, int y, int z) const { return (size_t(z) * size_t(chipsY) + size_t(y)) * size_t(chipsX) + size_t(x); }
    int chipAt(const Tile& t) const
    {
        if (t[0] < 0 || t[1] < 0 || t[2] < 0)
            return -1;
        const int x = t[0] / b.tilesX, y = t[1] / b.tilesY;
        if (x >= chipsX || y >= chipsY || t[2] >= maxZ)
            return -1;
        return chipOfPos[posIndex(x, y, t[2])];
    }
    bool usable(const Tile& from, const Tile& to) const
    {
        if (to[0] < 0 || to[1] < 0 || to[2] < 0 || to[0] >= maxX || to[1] >= maxY || to[2] >= maxZ)
            return false;
        const int ca = chipAt(from), cb = chipAt(to);
        if (ca < 0 || cb < 0)
            return false;
        if (ca != cb)
            return true; // chip-to-chip links are not listed as faults
        return !chip.isDeadLink(ca, from[0] % b.tilesX, from[1] % b.tilesY, to[0] % b.tilesX, to[1] % b.tilesY);
    }
};

bool walk(const Mesh& mesh, Tile cur, const Tile& goal, const int order[3], std::vector<Tile>& path)
{
    path.assign(1, cur);
    for (int k = 0; k < 3; ++k) {
        const int d = order[k];
        while (cur[size_t(d)] != goal[size_t(d)]) {
            Tile next = cur;
            next[size_t(d)] += goal[size_t(d)] > cur[size_t(d)] ? 1 : -1;
            if (!mesh.usable(cur, next))
                return false;
            cur = next;
            path.push_back(cur);
        }
    }
    return true;
}

bool shortestDetour(const Mesh& mesh, const Tile& from, const Tile& goal, std::vector<Tile>& path)
{
    auto key = [&](const Tile& t) { return (size_t(t[2]) * size_t(mesh.maxY) + size_t(t[1])) * size_t(mesh.maxX) + size_t(t[0]); };
    std::vector<int64_t> prev(static_cast<size_t>(mesh.maxX) * size_t(mesh.maxY) * size_t(mesh.maxZ), -2);
    std::deque<Tile> q{from};
    prev[key(from)] = -1;
    const int dirs[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
    while (!q.empty()) {
        const Tile t = q.front();
        q.pop_front();
        if (t == goal)
            break;
        for (const auto& d : dirs) {
            const Tile n{t[0] + d[0], t[1] + d[1], t[2] + d[2]};
            if (!mesh.usable(t, n) || prev[key(n)] != -2)
                continue;
            prev[key(n)] = int64_t(key(t));
            q.push_back(n);
        }
    }
    if (prev[key(goal)] == -2)
        return false;
    path.clear();
    for (int64_t k = int64_t(key(goal)); k >= 0; k = prev[size_t(k)]) {
        const size_t u = size_t(k);
        path.push_back({int(u % size_t(mesh.maxX)), int((u / size_t(mesh.maxX)) % size_t(mesh.maxY)),
                        int(u / (size_t(mesh.maxX) * size_t(mesh.maxY)))});
    }
    std::reverse(path.begin(), path.end());
    return true;
}

} // namespace

double barrierTimeNs(const ChipDescriptor& chip, const BoardLayout& board, const std::vector<CoreCoord>& used)
{
    // Grows with the tiles it spans (Davies et al. Table 2: 1..32 tiles).
    std::set<std::array<int, 3>> tiles;
    std::set<int> chips;
    for (const auto& c : used) {
        tiles.insert(globalTile(board, c));
        chips.insert(c.chip);
    }
    int maxChipDist = 0;
    for (int a : chips)
        for (int b : chips) {
            const auto& pa = board.chipPos[size_t(a)];
            const auto& pb = board.chipPos[size_t(b)];
            maxChipDist = std::max(maxChipDist, std::abs(pa[0] - pb[0]) + std::abs(pa[1] - pb[1]) + std::abs(pa[2] - pb[2]));
        }
    const double tilesPerChip = double(chip.tilesX * chip.tilesY);
    const double span = std::min(1.0, (double(tiles.size()) - 1.0) / std::max(1.0, tilesPerChip - 1.0));
    return chip.barrierMinNs + (chip.barrierMaxNs - chip.barrierMinNs) * span + maxChipDist * chip.latencyNs.chipLink;
}

bool routeBetween(const ChipDescriptor& chip, const BoardLayout& b, const CoreCoord& from, const CoreCoord& to,
                  Route& route)
{
    const Mesh mesh(chip, b);
    const Tile a = globalTile(b, from), z = globalTile(b, to);
    std::vector<Tile> path;
    const int xyz[3] = {0, 1, 2}, yxz[3] = {1, 0, 2}, zxy[3] = {2, 0, 1};
    if (!walk(mesh, a, z, xyz, path) && !walk(mesh, a, z, yxz, path) && !walk(mesh, a, z, zxy, path) &&
        !shortestDetour(mesh, a, z, path))
        return false;
    route.hopsEw = route.hopsNs = route.chipLinks = 0;
    for (size_t k = 1; k < path.size(); ++k) {
        const Tile &p = path[k - 1], &n = path[k];
        const bool crossX = p[0] / b.tilesX != n[0] / b.tilesX, crossY = p[1] / b.tilesY != n[1] / b.tilesY;
        if (p[2] != n[2] || crossX || crossY)
            ++route.chipLinks;
        else if (p[0] != n[0])
            ++route.hopsEw;
        else
            ++route.hopsNs;
    }
    route.path = std::move(path);
    return true;
}

} // namespace stc::target
