#include "sim/trace.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace stc::sim {

namespace {

constexpr uint32_t kTraceMagic = 0x54435453; // "STCT"
constexpr uint16_t kTraceVersion = 1;

} // namespace

void TraceRing::onChunk(std::span<const SpikeRecord> records)
{
    std::lock_guard lock(mu_);
    seen_ += records.size();
    if (buf_.empty())
        return;
    if (records.size() > buf_.size())
        records = records.subspan(records.size() - buf_.size());
    for (const SpikeRecord& r : records) {
        buf_[head_] = r;
        head_ = (head_ + 1) % buf_.size();
    }
}

std::vector<SpikeRecord> TraceRing::snapshot() const
{
    std::lock_guard lock(mu_);
    const size_t n = std::min<uint64_t>(seen_, buf_.size());
    std::vector<SpikeRecord> out;
    out.reserve(n);
    const size_t first = (head_ + buf_.size() - n) % std::max<size_t>(1, buf_.size());
    for (size_t k = 0; k < n; ++k)
        out.push_back(buf_[(first + k) % buf_.size()]);
    return out;
}

uint64_t TraceRing::totalSeen() const
{
    std::lock_guard lock(mu_);
    return seen_;
}

TraceFile::~TraceFile() { onFinish(); }

bool TraceFile::open(const std::string& path, const std::string& headerJson, std::string* error)
{
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_) {
        if (error)
            *error = "cannot write " + path;
        return false;
    }
    const uint32_t len = uint32_t(headerJson.size());
    const uint16_t v[2] = {kTraceVersion, 0};
    std::fwrite(&kTraceMagic, 4, 1, f_);
    std::fwrite(v, 2, 2, f_);
    std::fwrite(&len, 4, 1, f_);
    std::fwrite(headerJson.data(), 1, headerJson.size(), f_);
    return true;
}

void TraceFile::onChunk(std::span<const SpikeRecord> records)
{
    if (!f_ || records.empty())
        return;
    const uint32_t n = uint32_t(records.size());
    std::fwrite(&n, 4, 1, f_);
    std::fwrite(records.data(), sizeof(SpikeRecord), records.size(), f_);
    written_ += records.size();
}

void TraceFile::onFinish()
{
    if (f_)
        std::fclose(f_);
    f_ = nullptr;
}

TraceReader::~TraceReader()
{
    if (f_)
        std::fclose(f_);
}

bool TraceReader::open(const std::string& path, std::string* error)
{
    f_ = std::fopen(path.c_str(), "rb");
    auto fail = [&](const std::string& what) {
        if (error)
            *error = path + ": " + what;
        return false;
    };
    if (!f_)
        return fail("cannot open");
    uint32_t magic = 0, len = 0;
    uint16_t v[2] = {0, 0};
    if (std::fread(&magic, 4, 1, f_) != 1 || magic != kTraceMagic)
        return fail("not an STC spike trace");
    if (std::fread(v, 2, 2, f_) != 2 || v[0] != kTraceVersion)
        return fail("unsupported trace version");
    if (std::fread(&len, 4, 1, f_) != 1 || len > (64u << 20))
        return fail("bad header");
    header_.resize(len);
    if (std::fread(header_.data(), 1, len, f_) != len)
        return fail("truncated header");
    return true;
}

bool TraceReader::next(std::vector<SpikeRecord>& out)
{
    uint32_t n = 0;
    if (!f_ || std::fread(&n, 4, 1, f_) != 1)
        return false;
    out.resize(n);
    return std::fread(out.data(), sizeof(SpikeRecord), n, f_) == n;
}

TraceOverview::TraceOverview(int64_t totalNeurons, int steps, int maxBins)
{
    maxBins = std::max(1, maxBins);
    perBin_ = std::max<int64_t>(1, (totalNeurons + maxBins - 1) / maxBins);
    bins_ = int(std::max<int64_t>(1, (totalNeurons + perBin_ - 1) / perBin_));
    steps_ = std::max(1, steps);
    counts_.assign(size_t(bins_) * size_t(steps_), 0);
}

void TraceOverview::onChunk(std::span<const SpikeRecord> records)
{
    std::lock_guard lock(mu_);
    for (const SpikeRecord& r : records) {
        const int64_t bin = std::min<int64_t>(r.neuron / perBin_, bins_ - 1);
        counts_[size_t(std::min<int>(r.step, steps_ - 1)) * size_t(bins_) + size_t(bin)]++;
    }
}

uint64_t TraceOverview::count(int step, int bin) const
{
    std::lock_guard lock(mu_);
    return counts_[size_t(step) * size_t(bins_) + size_t(bin)];
}

void RunControl::cancel()
{
    cancel_ = true;
    std::lock_guard lock(mu_);
    cv_.notify_all();
}

void RunControl::pause()
{
    std::lock_guard lock(mu_);
    paused_ = true;
    budget_ = 0;
}

void RunControl::resume()
{
    std::lock_guard lock(mu_);
    paused_ = false;
    budget_ = -1;
    cv_.notify_all();
}

void RunControl::step(int steps)
{
    std::lock_guard lock(mu_);
    paused_ = true;
    budget_ = std::max(0, steps);
    cv_.notify_all();
}

bool RunControl::paused() const
{
    std::lock_guard lock(mu_);
    return paused_ && budget_ == 0;
}

bool RunControl::checkpoint()
{
    if (cancelled())
        return false;
    std::unique_lock lock(mu_);
    if (!paused_)
        return true;
    const auto released = [&] { return cancelled() || !paused_ || budget_ > 0; };
    if (external_) // nobody notifies for the external flag: poll it
        while (!cv_.wait_for(lock, std::chrono::milliseconds(20), released)) {
        }
    else
        cv_.wait(lock, released);
    if (paused_ && budget_ > 0)
        --budget_;
    return !cancelled();
}

} // namespace stc::sim
