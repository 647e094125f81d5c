#include "zip_members.h"

#include <zlib.h>

#include <cstring>

namespace stc::fuzztest {

namespace {

uint32_t u32(const std::string& s, size_t at)
{
    uint32_t v = 0;
    std::memcpy(&v, s.data() + at, 4);
    return v;
}

uint16_t u16(const std::string& s, size_t at)
{
    uint16_t v = 0;
    std::memcpy(&v, s.data() + at, 2);
    return v;
}

void put16(std::string& s, uint16_t v) { s.append(reinterpret_cast<const char*>(&v), 2); }
void put32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }

bool inflateRaw(const std::string& in, size_t size, std::string& out)
{
    out.assign(size, '\0');
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return false;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = uInt(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = uInt(out.size());
    const int rc = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    return rc == Z_STREAM_END && z.total_out == size;
}

} // namespace

ZipMembers readZipMembers(const std::string& a)
{
    ZipMembers out;
    // End of central directory: the last "PK\5\6" (no archive comment in PyTorch's files).
    const size_t eocd = a.rfind(std::string("PK\x05\x06", 4));
    if (eocd == std::string::npos || eocd + 22 > a.size())
        return {};
    size_t cd = u32(a, eocd + 16);
    const uint16_t count = u16(a, eocd + 10);
    for (uint16_t i = 0; i < count; ++i) {
        if (cd + 46 > a.size() || u32(a, cd) != 0x02014b50)
            return {};
        const uint16_t method = u16(a, cd + 10);
        const uint32_t csize = u32(a, cd + 20), usize = u32(a, cd + 24);
        const uint16_t nameLen = u16(a, cd + 28), extraLen = u16(a, cd + 30), commentLen = u16(a, cd + 32);
        const uint32_t local = u32(a, cd + 42);
        if (cd + 46 + nameLen > a.size() || local + 30 > a.size())
            return {};
        const std::string name = a.substr(cd + 46, nameLen);
        const size_t data = local + 30 + u16(a, local + 26) + u16(a, local + 28);
        if (data + csize > a.size())
            return {};
        std::string content;
        if (method == 0)
            content = a.substr(data, csize);
        else if (method != 8 || !inflateRaw(a.substr(data, csize), usize, content))
            return {};
        out.emplace_back(name, std::move(content));
        cd += 46 + nameLen + extraLen + commentLen;
    }
    return out;
}

std::string writeStoredZip(const ZipMembers& members)
{
    std::string out, central;
    for (const auto& [name, content] : members) {
        const uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef*>(content.data()), uInt(content.size())));
        const uint32_t offset = uint32_t(out.size());
        put32(out, 0x04034b50), put16(out, 20), put16(out, 0), put16(out, 0), put16(out, 0), put16(out, 0);
        put32(out, crc), put32(out, uint32_t(content.size())), put32(out, uint32_t(content.size()));
        put16(out, uint16_t(name.size())), put16(out, 0);
        out += name;
        out += content;
        put32(central, 0x02014b50), put16(central, 20), put16(central, 20), put16(central, 0), put16(central, 0);
        put16(central, 0), put16(central, 0), put32(central, crc), put32(central, uint32_t(content.size()));
        put32(central, uint32_t(content.size())), put16(central, uint16_t(name.size())), put16(central, 0);
        put16(central, 0), put16(central, 0), put16(central, 0), put32(central, 0), put32(central, offset);
        central += name;
    }
    const uint32_t cdOffset = uint32_t(out.size());
    out += central;
    put32(out, 0x06054b50), put16(out, 0), put16(out, 0), put16(out, uint16_t(members.size()));
    put16(out, uint16_t(members.size())), put32(out, uint32_t(central.size())), put32(out, cdOffset), put16(out, 0);
    return out;
}

} // namespace stc::fuzztest
