// stc-studio: the STC Studio IDE.
//   stc-studio [FILE]                       open FILE (.pt / .sir / .nir / .stcproj) at start
//   stc-studio --headless-report OUTDIR [MODEL] [--image N]
//   stc-studio --tour OUTDIR [MODEL] [--project FILE.stcproj]
//   --dark / --light                        force a theme (screenshots)
//   stc-studio --startup-bench              print ms from main() to an interactive window, then quit
//   stc-studio --version | --help
// The headless modes run offscreen when there is no display.
#include "main/headless.h"
#include "main/main_window.h"
#include "plugin_host.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QTextStream>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <cstdlib>
#include <cstring>

namespace {

constexpr const char* kUsage =
    "usage: stc-studio [FILE]\n"
    "         open FILE (.pt / .sir / .nir model, .stcproj project) in the IDE\n"
    "       stc-studio --headless-report OUTDIR [MODEL] [--image N]\n"
    "         compile and simulate MODEL without a window: OUTDIR/report.txt and studio.png\n"
    "       stc-studio --tour OUTDIR [MODEL] [--project FILE.stcproj]\n"
    "         the headless report plus one screenshot per panel (and the project in the Explorer)\n"
    "       stc-studio --startup-bench\n"
    "         print ms from main() to an interactive window, then quit\n"
    "       stc-studio --version | --help\n"
    "options: --dark / --light force a theme; Qt's own options (-platform, -style, ...) are accepted too\n";

// Handled before QApplication exists, so they work without a display.
int earlyExit(int argc, char** argv)
{
    static const char* known[] = {"--headless-report", "--tour", "--startup-bench", "--image", "--project", "--dark", "--light"};
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (!std::strcmp(a, "--version")) {
            std::printf("stc-studio %s\n", STC_VERSION);
            return 0;
        }
        if (std::strncmp(a, "--", 2) == 0 &&
            std::none_of(std::begin(known), std::end(known), [&](const char* k) { return !std::strcmp(a, k); })) {
            std::fprintf(stderr, "stc-studio: unknown option '%s'\n%s", a, kUsage);
            return 2;
        }
    }
    return -1;
}

} // namespace

int main(int argc, char** argv)
{
    QElapsedTimer startup;
    startup.start();
    if (const int code = earlyExit(argc, argv); code >= 0)
        return code;
    bool headless = false;
    for (int i = 1; i < argc; ++i)
        if (!std::strcmp(argv[i], "--headless-report") || !std::strcmp(argv[i], "--tour") ||
            !std::strcmp(argv[i], "--startup-bench"))
            headless = true;
    if (headless && qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") &&
        qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");

    QApplication app(argc, argv);
    QApplication::setOrganizationName("STC");
    QApplication::setApplicationName("STC Studio");
    QApplication::setApplicationVersion(STC_VERSION);
    // Chip descriptors shipped by backend plugins join the descriptor search
    // path before any panel lists chips (reads plugin metadata, loads nothing).
    stc::plugins::PluginHost::instance().registerChipDescriptors();

    const QStringList args = app.arguments();
    if (args.contains("--dark"))
        stc::views::theme::apply(stc::views::theme::Mode::Dark);
    else if (args.contains("--light"))
        stc::views::theme::apply(stc::views::theme::Mode::Light);
    QTextStream out(stdout);
    auto argAfter = [&](int i) { return i + 1 < args.size() ? args[i + 1] : QString(); };

    for (int i = 1; i < args.size(); ++i) {
        if (args[i] == "--headless-report" || args[i] == "--tour") {
            stc::views::HeadlessOptions o;
            o.tour = args[i] == "--tour";
            o.outDir = argAfter(i);
            if (o.outDir.isEmpty()) {
                std::fprintf(stderr, "usage: stc-studio %s OUTDIR [MODEL] [--image N]\n", qPrintable(args[i]));
                return 2;
            }
            for (int k = i + 2; k < args.size(); ++k) {
                if (args[k] == "--dark" || args[k] == "--light")
                    continue;
                if (args[k] == "--image")
                    o.image = argAfter(k++).toInt();
                else if (args[k] == "--project")
                    o.project = argAfter(k++);
                else if (o.model.isEmpty())
                    o.model = args[k];
            }
            stc::views::MainWindow window({/*askInputShape=*/false, /*restoreLayout=*/false});
            const auto r = stc::views::runHeadless(window, o, out);
            out << r.report;
            for (const QString& f : r.files)
                out << "wrote " << f << "\n";
            return r.ok ? 0 : 1;
        }
        if (args[i] == "--startup-bench") {
            stc::views::MainWindow window({true, false});
            window.show();
            // The first timer tick after show() runs once the window is painted and the loop is idle.
            QTimer::singleShot(0, &app, [&] {
                out << "startup_ms " << startup.nsecsElapsed() / 1e6 << "\n";
                app.quit();
            });
            return app.exec();
        }
    }

    stc::views::MainWindow window;
    window.show();
    for (int i = 1; i < args.size(); ++i)
        if (!args[i].startsWith("--")) {
            window.openFile(args[i]);
            break;
        }
    return app.exec();
}
