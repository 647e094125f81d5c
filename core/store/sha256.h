// SHA-256 (FIPS 180-4) for the model content hash recorded in a project.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace stc::store {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t size);
    void update(std::string_view s) { update(s.data(), s.size()); }
    std::array<uint8_t, 32> digest(); // finishes; the object must not be updated afterwards
    std::string hex();                // digest() as 64 lowercase hex digits

private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t bufLen_ = 0;
    uint64_t total_ = 0;
};

std::string sha256Hex(std::string_view data);
// Hashes a file in chunks; returns false (error set) when it cannot be read.
bool sha256File(const std::string& path, std::string& hexOut, std::string& error);

} // namespace stc::store
