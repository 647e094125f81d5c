#include "passes/pass.h"

#include "passes/context.h"

#include <charconv>

namespace stc::passes {

const char* toString(PassKind k) { return k == PassKind::Transform ? "transform" : "analysis"; }

const OptionSpec* PassInfo::option(const std::string& optName) const
{
    for (const auto& o : options)
        if (o.name == optName)
            return &o;
    return nullptr;
}

void Statistics::set(const std::string& name, StatValue v)
{
    for (auto& s : items_)
        if (s.name == name) {
            s.value = v;
            return;
        }
    items_.push_back({name, v});
}

void Statistics::add(const std::string& name, int64_t delta)
{
    for (auto& s : items_)
        if (s.name == name) {
            if (auto* i = std::get_if<int64_t>(&s.value))
                *i += delta;
            else
                s.value = std::get<double>(s.value) + static_cast<double>(delta);
            return;
        }
    items_.push_back({name, delta});
}

const StatValue* Statistics::find(const std::string& name) const
{
    for (const auto& s : items_)
        if (s.name == name)
            return &s.value;
    return nullptr;
}

int64_t Statistics::getInt(const std::string& name, int64_t def) const
{
    const StatValue* v = find(name);
    if (!v)
        return def;
    if (auto i = std::get_if<int64_t>(v))
        return *i;
    return static_cast<int64_t>(std::get<double>(*v));
}

double Statistics::getFloat(const std::string& name, double def) const
{
    const StatValue* v = find(name);
    if (!v)
        return def;
    if (auto i = std::get_if<int64_t>(v))
        return static_cast<double>(*i);
    return std::get<double>(*v);
}

std::string formatStatValue(const StatValue& v)
{
    if (auto i = std::get_if<int64_t>(&v))
        return std::to_string(*i);
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, std::get<double>(v), std::chars_format::general, 6);
    return std::string(buf, r.ptr);
}

PassRun::PassRun(const PassInfo& info, Options options, CompileContext& ctx, int entryIndex, int entryCount)
    : info_(info), options_(std::move(options)), ctx_(ctx), entryIndex_(entryIndex),
      entryCount_(entryCount < 1 ? 1 : entryCount)
{
}

void PassRun::error(const std::string& message, const std::string& op, const std::string& origin)
{
    diags_.add({Severity::Error, {}, op, origin, info_.name + ": " + message});
}

void PassRun::warning(const std::string& message, const std::string& op, const std::string& origin)
{
    diags_.add({Severity::Warning, {}, op, origin, info_.name + ": " + message});
}

void PassRun::note(const std::string& message) { diags_.add({Severity::Note, {}, {}, {}, info_.name + ": " + message}); }

void PassRun::checkCancelled() const { ctx_.checkCancelled(); }

void PassRun::progress(double fraction, const std::string& what)
{
    if (!ctx_.onProgress)
        return;
    fraction = fraction < 0.0 ? 0.0 : (fraction > 1.0 ? 1.0 : fraction);
    ctx_.onProgress({entryIndex_, info_.name, fraction, (entryIndex_ + fraction) / entryCount_, what});
}

} // namespace stc::passes
