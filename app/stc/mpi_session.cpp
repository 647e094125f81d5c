#include "mpi_session.h"

#include <cstdlib>

#if STC_HAVE_MPI
#include <mpi.h>
#endif

namespace stc::cli {

bool MpiSession::launchedByMpi()
{
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS", "SLURM_STEP_NUM_TASKS"})
        if (std::getenv(v))
            return true;
    return false;
}

bool MpiSession::builtWithMpi() { return STC_HAVE_MPI != 0; }

MpiSession::MpiSession()
{
#if STC_HAVE_MPI
    if (!launchedByMpi())
        return;
    int already = 0;
    MPI_Initialized(&already);
    if (!already) {
        MPI_Init(nullptr, nullptr);
        initialised_ = true;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
#endif
}

MpiSession::~MpiSession()
{
#if STC_HAVE_MPI
    if (initialised_)
        MPI_Finalize();
#endif
}

std::vector<std::string> MpiSession::gather(const std::string& bytes) const
{
    if (size_ <= 1)
        return {bytes};
#if STC_HAVE_MPI
    const long long mine = (long long)bytes.size();
    std::vector<long long> sizes(size_t(size_), 0);
    MPI_Gather(&mine, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    std::vector<std::string> out;
    if (rank_ == 0) {
        out.resize(size_t(size_));
        out[0] = bytes;
        for (int r = 1; r < size_; ++r) {
            out[size_t(r)].resize(size_t(sizes[size_t(r)]));
            // Chunks below INT_MAX bytes each.
            for (long long off = 0; off < sizes[size_t(r)]; off += (1 << 30)) {
                const int n = int(std::min<long long>(1 << 30, sizes[size_t(r)] - off));
                MPI_Recv(out[size_t(r)].data() + off, n, MPI_BYTE, r, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            }
        }
    } else {
        for (long long off = 0; off < mine; off += (1 << 30)) {
            const int n = int(std::min<long long>(1 << 30, mine - off));
            MPI_Send(bytes.data() + off, n, MPI_BYTE, 0, 7, MPI_COMM_WORLD);
        }
    }
    return out;
#else
    return {bytes};
#endif
}

std::string MpiSession::broadcast(const std::string& bytes) const
{
    if (size_ <= 1)
        return bytes;
#if STC_HAVE_MPI
    long long n = (long long)bytes.size();
    MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    std::string out = rank_ == 0 ? bytes : std::string(size_t(n), '\0');
    MPI_Bcast(out.data(), int(n), MPI_BYTE, 0, MPI_COMM_WORLD);
    return out;
#else
    return bytes;
#endif
}

bool MpiSession::anyFailed(bool failed) const
{
    if (size_ <= 1)
        return failed;
#if STC_HAVE_MPI
    int mine = failed ? 1 : 0, any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return any != 0;
#else
    return failed;
#endif
}

} // namespace stc::cli
