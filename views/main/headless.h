// Scripted runs of the IDE for the README and CI: open a model, wait for the
// import, graph layout, compile and a simulation of one test image, then
// write screenshots and a plain-text report. Used by `stc-studio
// --headless-report` and `--tour`, and by tests.
#pragma once

#include <QString>
#include <QStringList>

class QTextStream;

namespace stc::views {

class MainWindow;

struct HeadlessOptions {
    QString outDir;
    QString model;       // default: the bundled Fashion-MNIST Spikformer
    int image = 0;       // Fashion-MNIST test image index (the random input's seed for a model that takes no image)
    bool tour = false;   // also a screenshot per panel
    QString project;     // tour: also open this .stcproj (studio-explorer.png)
    int timeoutMs = 180000;
};

struct HeadlessResult {
    bool ok = false;
    QStringList files; // written files
    QString report;    // the report text
};

QString defaultModelPath();

// Drives `window` (already constructed, not necessarily shown) through the
// steps above. Progress lines go to `log`.
HeadlessResult runHeadless(MainWindow& window, const HeadlessOptions& options, QTextStream& log);

} // namespace stc::views
