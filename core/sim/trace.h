// Streaming spike traces for the IDE and `stc simulate --trace`.
//
// The simulator hands spikes to a TraceSink in chunks of SpikeRecords (at
// most SimOptions::traceChunk records are buffered), so memory stays bounded
// however many samples run. Sinks:
//   TraceRing      the most recent N records in memory (live raster view)
//   TraceFile      appends chunks to a file (on-disk spill); TraceReader reads it back
//   TraceOverview  decimated counts per (step, neuron bin), fixed size, for the overview
// RunControl lets another thread cancel, pause, resume and single-step a run.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace stc::sim {

struct SpikeRecord {
    uint32_t sample = 0; // index of the sample in the run
    uint16_t step = 0;   // step of the inference: model step + the population's phase
    uint16_t reserved = 0;
    uint32_t neuron = 0; // global neuron id: PopulationInfo::firstId + flat index
    int32_t value = 0;   // 1 for binary spikes, the payload of a graded spike
    friend bool operator==(const SpikeRecord&, const SpikeRecord&) = default;
};
static_assert(sizeof(SpikeRecord) == 16);

class TraceSink {
public:
    virtual ~TraceSink() = default;
    // Called from simulator threads, one call at a time.
    virtual void onChunk(std::span<const SpikeRecord> records) = 0;
    virtual void onFinish() {}
};

// Keeps the latest `capacity` records.
class TraceRing : public TraceSink {
public:
    explicit TraceRing(size_t capacity) : buf_(capacity) {}
    void onChunk(std::span<const SpikeRecord> records) override;
    std::vector<SpikeRecord> snapshot() const; // oldest first
    uint64_t totalSeen() const;

private:
    mutable std::mutex mu_;
    std::vector<SpikeRecord> buf_;
    size_t head_ = 0;
    uint64_t seen_ = 0;
};

// Binary trace file: "STCT" u32 magic, u16 version 1, u16 reserved,
// u32 header length + header JSON (model, timesteps, depth, populations with
// name/first_id/size/phase), then blocks of (u32 count, count x 16-byte records).
class TraceFile : public TraceSink {
public:
    TraceFile() = default;
    ~TraceFile() override;
    bool open(const std::string& path, const std::string& headerJson, std::string* error);
    void onChunk(std::span<const SpikeRecord> records) override;
    void onFinish() override;
    uint64_t written() const { return written_; }

private:
    std::FILE* f_ = nullptr;
    uint64_t written_ = 0;
};

class TraceReader {
public:
    ~TraceReader();
    bool open(const std::string& path, std::string* error);
    const std::string& headerJson() const { return header_; }
    // Next block of records; false at the end of the file.
    bool next(std::vector<SpikeRecord>& out);

private:
    std::FILE* f_ = nullptr;
    std::string header_;
};

// Spike counts per (step of the inference, neuron bin), summed over samples:
// a fixed-size image for the overview whatever the run length.
class TraceOverview : public TraceSink {
public:
    TraceOverview(int64_t totalNeurons, int steps, int maxBins);
    void onChunk(std::span<const SpikeRecord> records) override;
    int bins() const { return bins_; }
    int steps() const { return steps_; }
    int64_t neuronsPerBin() const { return perBin_; }
    uint64_t count(int step, int bin) const;

private:
    mutable std::mutex mu_;
    int64_t perBin_ = 1;
    int bins_ = 1, steps_ = 1;
    std::vector<uint64_t> counts_;
};

// Cancel / pause / single-step, shared between a UI thread and the run.
class RunControl {
public:
    void cancel();
    void pause();
    void resume();
    // Lets a paused run advance `steps` hardware steps, then pause again.
    void step(int steps = 1);
    // Also cancelled once `flag` is true (a job's cancel flag handed down by a
    // UI); `flag` must outlive the run. A paused run notices it within 20 ms.
    void cancelWith(const std::atomic<bool>* flag) { external_ = flag; }
    bool cancelled() const
    {
        return cancel_.load(std::memory_order_relaxed) || (external_ && external_->load(std::memory_order_relaxed));
    }
    bool paused() const;
    // Called by the simulator once per hardware step; blocks while paused.
    // Returns false when the run is cancelled.
    bool checkpoint();

private:
    std::atomic<bool> cancel_{false};
    const std::atomic<bool>* external_ = nullptr;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool paused_ = false;
    int64_t budget_ = -1; // steps allowed while paused (-1: none)
};

} // namespace stc::sim
