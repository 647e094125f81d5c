// MainWindow: opening deployment packages and the T/dt prompt for NIR
// graphs without stc_timesteps / stc_dt (kept apart from main_window.cpp).
#include "main/main_window.h"

#include "common/settings_writer.h"

#include "document/document.h"
#include "editor/ir_editor_panel.h"
#include "floorplan/floorplan_panel.h"
#include "jobs/job_runner.h"
#include "main/nir_open_dialog.h"
#include "sim/simulator_panel.h"

#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
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

std::optional<NirOpenAnswers> MainWindow::askNirSettings(const QString& path, NirOpenAnswers given,
                                                        bool needsTimesteps, bool needsDt, QString* why)
{
    // Suggest this session's answers for the file, else the last answers
    // (QSettings), else the open model's T or 4 (the bundled models' T) and
    // dt = 1e-4 s (the importer's default).
    QSettings settings;
    const QString key = QFileInfo(path).absoluteFilePath();
    const NirOpenAnswers before = nirAnswers_.value(key);
    int64_t suggestedT = doc_->hasModule() && doc_->module()->timesteps > 0 ? doc_->module()->timesteps : 4;
    suggestedT = before.timesteps ? *before.timesteps : settings.value("nir/timesteps", qlonglong(suggestedT)).toLongLong();
    const QString suggestedDt = before.dt ? formatNirDt(*before.dt) : settings.value("nir/dt", "0.0001").toString();
    const QString noT = "a NIR graph has no number of time steps (stc_timesteps) and none was given";
    const QString noDt = "a NIR graph has no time step (stc_dt) and none was given";
    NirOpenAnswers a = given;
    if (timestepsPrompt_ || dtPrompt_ || !options_.askInputShape) { // no dialogs in tests and headless runs
        if (needsTimesteps) {
            const std::optional<int64_t> t = timestepsPrompt_ ? timestepsPrompt_(path, suggestedT) : std::nullopt;
            if (!t || *t < 1)
                return *why = noT, std::nullopt;
            a.timesteps = t;
        }
        if (needsDt) {
            const std::optional<QString> text = dtPrompt_ ? dtPrompt_(path, suggestedDt) : suggestedDt;
            if (!text || text->trimmed().isEmpty())
                return *why = noDt, std::nullopt;
            QString reason;
            a.dt = parseNirDt(*text, &reason);
            if (!a.dt)
                return *why = reason + " (the time step the NIR graph is imported with)", std::nullopt;
        }
    } else {
        NirOpenDialog dialog(path, needsTimesteps, suggestedT, needsDt, suggestedDt, this);
        if (dialog.exec() != QDialog::Accepted)
            return *why = needsTimesteps ? noT : noDt,
                   std::nullopt;
        if (needsTimesteps)
            a.timesteps = dialog.timesteps();
        if (needsDt)
            a.dt = dialog.dt();
    }
    if (needsTimesteps)
        settings::writeLater("nir/timesteps", qlonglong(*a.timesteps));
    if (needsDt)
        settings::writeLater("nir/dt", formatNirDt(*a.dt));
    nirAnswers_[key] = a;
    return a;
}

} // namespace stc::views
