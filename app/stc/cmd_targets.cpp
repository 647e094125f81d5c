// stc targets: the chips `--chip` accepts and the backend plugins behind them.
#include "cli_args.h"
#include "commands.h"
#include "plugin_host.h"

#include "target/chip_descriptor.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace stc::cli {

int runTargetsCommand(const Args& argsIn)
{
    Args args = argsIn;
    const bool json = takeFlag(args, "--json");
    if (reportUnknownOptions(args, "targets") || !args.empty()) {
        std::fprintf(stderr, "usage: stc targets [--json]\n");
        return 2;
    }
    auto& host = plugins::PluginHost::instance();
    host.registerChipDescriptors();
    auto backendOf = [&](const QString& id) {
        for (const auto& p : host.plugins())
            if (p.kind == "backend" && p.usable && p.chips.contains(id))
                return p.name;
        return QString();
    };
    QJsonArray chips;
    std::string text = "chips (--chip ID):\n";
    for (const auto& id : target::availableChipIds()) {
        const target::DescriptorLoad d = target::findChip(id);
        const QString backend = backendOf(QString::fromStdString(id));
        QJsonObject o{{"id", QString::fromStdString(id)}, {"backend", backend}};
        char line[512];
        if (!d.chip) {
            o["error"] = QString::fromStdString(d.diagnostics.format());
            std::snprintf(line, sizeof line, "  %-12s INVALID descriptor (stc compile --chip %s shows why)\n", id.c_str(),
                          id.c_str());
        } else {
            const auto& c = *d.chip;
            o["name"] = QString::fromStdString(c.name);
            o["file"] = QString::fromStdString(c.sourceFile);
            o["cores_per_chip"] = c.coresPerChip();
            o["max_chips"] = c.maxChips();
            o["projected_chip"] = c.projectedChip;
            o["projected_constants"] = c.projectedCount();
            std::snprintf(line, sizeof line, "  %-12s %-40s %4d cores/chip, up to %4d chips, %2d projected constants%s, backend %s\n",
                          id.c_str(), c.name.c_str(), c.coresPerChip(), c.maxChips(), c.projectedCount(),
                          c.projectedChip ? " (PROJECTED chip)" : "",
                          backend.isEmpty() ? "none (built-in Loihi writer for loihi*)" : qPrintable(backend));
        }
        text += line;
        chips.append(o);
    }
    QJsonArray backends;
    text += "\nbackend plugins:\n";
    for (const auto& p : host.plugins()) {
        if (p.kind != "backend")
            continue;
        backends.append(QJsonObject{{"name", p.name},
                                    {"version", p.version},
                                    {"file", p.file},
                                    {"chips", QJsonArray::fromStringList(p.chips)},
                                    {"descriptors", QJsonArray::fromStringList(p.descriptors)},
                                    {"usable", p.usable},
                                    {"problem", p.problem}});
        text += "  " + p.name.toStdString() + " " + p.version.toStdString() + "  chips: " +
                p.chips.join(", ").toStdString() + "  (" + p.file.toStdString() + ")" +
                (p.usable ? "" : "  NOT USABLE: " + p.problem.toStdString()) + "\n";
    }
    if (json)
        std::printf("%s", QJsonDocument(QJsonObject{{"chips", chips}, {"backends", backends}}).toJson().constData());
    else
        std::printf("%s", text.c_str());
    return 0;
}

} // namespace stc::cli
