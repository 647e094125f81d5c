// Event counters of a simulation: per core and per step of an inference
// (step index s = model step t + the population's phase, so every sample
// uses the same T + depth slots whichever schedule ran), per population
// (layer), summed over all simulated samples.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace stc::sim {

struct EventCounts {
    int64_t synapticOps = 0;    // synapses processed (a spike x its row; zeros of dense rows included)
    int64_t neuronActive = 0;   // neuron updates with input or non-zero state
    int64_t neuronIdle = 0;     // neuron updates of a resting neuron without input
    int64_t spikes = 0;         // spikes (graded or binary) emitted
    int64_t messages = 0;       // spike messages sent (one per route entry = output axon)
    int64_t hopsEw = 0, hopsNs = 0;
    int64_t chipMessages = 0;   // messages that cross at least one chip-to-chip link
    int64_t chipLinks = 0;      // chip-to-chip link traversals
    int64_t memReadBytes = 0;   // synapse-table bytes read
    double maxMessageNs = 0;    // slowest message sent (mesh latency)

    EventCounts& operator+=(const EventCounts& o)
    {
        synapticOps += o.synapticOps;
        neuronActive += o.neuronActive;
        neuronIdle += o.neuronIdle;
        spikes += o.spikes;
        messages += o.messages;
        hopsEw += o.hopsEw;
        hopsNs += o.hopsNs;
        chipMessages += o.chipMessages;
        chipLinks += o.chipLinks;
        memReadBytes += o.memReadBytes;
        maxMessageNs = std::max(maxMessageNs, o.maxMessageNs);
        return *this;
    }
};

struct Counters {
    int cores = 0, steps = 0;
    std::vector<EventCounts> perCoreStep; // [core * steps + step]
    std::vector<EventCounts> perPopulation;
    // Dense-equivalent work: structural synapses whose source is an input
    // population (first-layer MACs) and all synapses, per inference.
    int64_t samples = 0;
    int64_t inputSynapticOps = 0; // synaptic ops of spikes from input populations (the first layer)

    void reset(int nCores, int nSteps, size_t nPops)
    {
        cores = nCores;
        steps = nSteps;
        perCoreStep.assign(size_t(nCores) * size_t(nSteps), {});
        perPopulation.assign(nPops, {});
        samples = 0;
        inputSynapticOps = 0;
    }
    EventCounts& at(int core, int step) { return perCoreStep[size_t(core) * size_t(steps) + size_t(step)]; }
    const EventCounts& at(int core, int step) const { return perCoreStep[size_t(core) * size_t(steps) + size_t(step)]; }
    EventCounts total() const
    {
        EventCounts t;
        for (const auto& e : perCoreStep)
            t += e;
        return t;
    }
    EventCounts core(int c) const
    {
        EventCounts t;
        for (int s = 0; s < steps; ++s)
            t += at(c, s);
        return t;
    }
    EventCounts step(int s) const
    {
        EventCounts t;
        for (int c = 0; c < cores; ++c)
            t += at(c, s);
        return t;
    }
    Counters& operator+=(const Counters& o)
    {
        if (perCoreStep.empty()) {
            *this = o;
            return *this;
        }
        for (size_t i = 0; i < perCoreStep.size() && i < o.perCoreStep.size(); ++i)
            perCoreStep[i] += o.perCoreStep[i];
        for (size_t i = 0; i < perPopulation.size() && i < o.perPopulation.size(); ++i)
            perPopulation[i] += o.perPopulation[i];
        samples += o.samples;
        inputSynapticOps += o.inputSynapticOps;
        return *this;
    }
};

} // namespace stc::sim
