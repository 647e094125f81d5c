// MPI for `stc` commands that split their work across ranks (`mpirun -np N
// stc sweep ...`). MPI is initialised only when the process was started by
// an MPI launcher (mpirun, srun: their environment variables are present), so
// a plain `stc` never pays for it; without MPI support built in, or outside a
// launcher, this is one process of rank 0.
#pragma once

#include <string>
#include <vector>

namespace stc::cli {

class MpiSession {
public:
    MpiSession();
    ~MpiSession();
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;

    int rank() const { return rank_; }
    int size() const { return size_; }
    bool active() const { return size_ > 1; }

    // Rank 0 receives every rank's bytes (its own first); the others get {}.
    std::vector<std::string> gather(const std::string& bytes) const;
    // Rank 0's `bytes` to every rank.
    std::string broadcast(const std::string& bytes) const;
    // Every rank learns whether any rank failed.
    bool anyFailed(bool failed) const;

    static bool builtWithMpi();
    // The process was started by an MPI launcher (mpirun, srun: their environment variables are present).
    static bool launchedByMpi();

private:
    bool initialised_ = false;
    int rank_ = 0, size_ = 1;
};

} // namespace stc::cli
