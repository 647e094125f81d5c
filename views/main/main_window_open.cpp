// MainWindow: opening deployment packages and the time-step prompt for NIR
// graphs without stc_timesteps (kept apart from main_window.cpp).
#include "main/main_window.h"

#include "common/settings_writer.h"

#include "document/document.h"
#include "editor/ir_editor_panel.h"
#include "floorplan/floorplan_panel.h"
#include "jobs/job_runner.h"
#include "sim/simulator_panel.h"

#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QSettings>
#include <QStatusBar>

namespace stc::views {

void MainWindow::openPackageDialog()
{
    const QString dir = QSettings().value("file/lastDir").toString();
    const QString path = QFileDialog::getExistingDirectory(this, "Open deployment package directory", dir);
    if (path.isEmpty())
        return;
    settings::writeLater("file/lastDir", QFileInfo(path).absolutePath());
    openFile(path);
}

void MainWindow::openPackage(const QString& path)
{
    const QString name = QFileInfo(QString::fromStdString(packageDirectoryOf(path.toStdString()))).fileName();
    statusBar()->showMessage("Opening package " + name + "…");
    const std::string p = path.toStdString();
    jobs_->start<PackageOutcome>(
        "import", "Opening package " + name,
        [p](JobContext& ctx) {
            return loadPackageDirectory(p, ctx.cancelFlag(),
                                        [&ctx](double f, const std::string& msg) { ctx.progress(f, msg); });
        },
        [this, path](PackageOutcome r) { acceptPackage(path, std::move(r)); });
}

void MainWindow::acceptPackage(const QString& path, PackageOutcome r)
{
    const QString dir = QString::fromStdString(r.directory);
    if (!r.ok()) {
        doc_->setDiagnostics(DiagSource::Load, r.diagnostics);
        if (QDockWidget* d = findChild<QDockWidget*>("dock.diagnostics"))
            d->raise();
        statusBar()->showMessage("Could not open the package " + QFileInfo(dir).fileName() + " — see Diagnostics", 10000);
        emit fileOpened(path, false);
        return;
    }
    if (r.source.module) {
        doc_->load(r.sourcePath, r.source.module, r.diagnostics, QString::fromStdString(r.source.engine),
                   r.source.inputShape);
        editor_->setLoadedText(QString::fromStdString(r.source.sourceText));
    } else {
        doc_->load(dir, nullptr, r.diagnostics, "deployment package");
    }
    floorplan_->showPackage(r.floorplan, r.package);
    sim_->setEngine(SimulatorPanel::Engine::ChipSimulator);
    updateActions();
    if (QDockWidget* d = findChild<QDockWidget*>("dock.floorplan"))
        d->raise();
    addRecentFile(dir);
    statusBar()->showMessage(QString("Opened the %1 in %2 s (F5 runs it on the chip simulator) · %3")
                                 .arg(r.description)
                                 .arg(r.seconds, 0, 'f', 2)
                                 .arg(r.sourceNote));
    emit fileOpened(path, true);
}

std::optional<int64_t> MainWindow::askNirTimesteps(const QString& path)
{
    // Suggest the last answer (QSettings), else the open model's T, else 4
    // (the T of the bundled models).
    QSettings settings;
    int64_t suggested = doc_->hasModule() && doc_->module()->timesteps > 0 ? doc_->module()->timesteps : 4;
    suggested = settings.value("nir/timesteps", qlonglong(suggested)).toLongLong();
    std::optional<int64_t> t;
    if (timestepsPrompt_) {
        t = timestepsPrompt_(path, suggested);
    } else if (options_.askInputShape) { // no dialogs in tests and headless runs
        bool ok = false;
        const int v = QInputDialog::getInt(
            this, "NIR time steps",
            QString("%1 does not record its number of time steps (stc_timesteps).\nTime steps T to unroll the "
                    "graph over (the CLI's --timesteps):")
                .arg(QFileInfo(path).fileName()),
            int(suggested), 1, 1000000, 1, &ok);
        if (ok)
            t = v;
    }
    if (t && *t >= 1)
        settings::writeLater("nir/timesteps", qlonglong(*t));
    return t && *t >= 1 ? t : std::nullopt;
}

} // namespace stc::views
