#include "main/main_window.h"

#include "charts/charts_panel.h"
#include "common/settings_writer.h"
#include "floorplan/floorplan_panel.h"
#include "diagnostics/diagnostics_model.h"
#include "diagnostics/diagnostics_widget.h"
#include "document/document.h"
#include "editor/ir_editor_panel.h"
#include "graph/graph_view.h"
#include "inspector/inspector_model.h"
#include "inspector/inspector_widget.h"
#include "jobs/job_runner.h"
#include "jobs/latency_probe.h"
#include "main/command_palette.h"
#include "passes/pass_panel.h"
#include "sim/simulator_panel.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>
#include <QToolButton>

#include "util/resource_paths.h"

// Resources of a static library are not registered automatically; this must
// be called outside any namespace.
static void initStudioResources() { Q_INIT_RESOURCE(icons); }

namespace stc::views {

namespace {
constexpr int kMaxRecent = 10;
constexpr int kLayoutVersion = 6; // bump when docks change so stale saved states are ignored
} // namespace

MainWindow::MainWindow(Options options, QWidget* parent) : QMainWindow(parent), options_(options)
{
    initStudioResources();
    setObjectName("mainWindow");
    setWindowIcon(QIcon(":/icons/app.svg"));
    setAcceptDrops(true);
    setDockNestingEnabled(true);
    setDocumentMode(true);
    doc_ = new Document(this);
    jobs_ = new JobRunner(this);
    probe_ = new LatencyProbe(5, this);

    settings::startWriter();
    createPanels();
    createActions();
    createMenus();
    createStatusBar();
    palette_ = new CommandPalette(this);

    connect(doc_, &Document::moduleChanged, this, [this] {
        updateTitle();
        updateActions();
    });
    connect(doc_->undoStack(), &QUndoStack::cleanChanged, this, &MainWindow::updateTitle);
    connect(doc_, &Document::selectionChanged, this, &MainWindow::updateActions);

    resize(1440, 900);
    defaultState_ = saveState(kLayoutVersion);
    if (options_.restoreLayout) {
        QSettings settings;
        restoreGeometry(settings.value("window/geometry").toByteArray());
        restoreState(settings.value("window/state").toByteArray(), kLayoutVersion);
        setThemeMode(theme::Mode(settings.value("view/theme", int(theme::Mode::System)).toInt()));
    }
    recent_ = QSettings().value("file/recent").toStringList();
    updateTitle();
    updateActions();
    rebuildRecentMenu();
}

MainWindow::~MainWindow() { jobs_->cancelAll(); }

QDockWidget* MainWindow::addDock(QWidget* content, const QString& title, const QString& objectName,
                                 Qt::DockWidgetArea area)
{
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(objectName);
    dock->setWidget(content);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable |
                      QDockWidget::DockWidgetFloatable);
    addDockWidget(area, dock);
    return dock;
}

void MainWindow::createPanels()
{
    graph_ = new graph::GraphView(doc_, jobs_, this);
    setCentralWidget(graph_);

    inspector_ = new InspectorWidget(doc_, this);
    editor_ = new IrEditorPanel(doc_, jobs_, this);
    diagnostics_ = new DiagnosticsWidget(doc_, this);
    sim_ = new SimulatorPanel(doc_, jobs_, this);
    passes_ = new PassPanel(doc_, jobs_, this);
    floorplan_ = new FloorplanPanel(doc_, jobs_, this);
    charts_ = new ChartsPanel(this);

    QDockWidget* pipelineDock = addDock(passes_, "Pass Pipeline", "dock.pipeline", Qt::LeftDockWidgetArea);
    QDockWidget* inspectorDock = addDock(inspector_, "Inspector", "dock.inspector", Qt::RightDockWidgetArea);
    QDockWidget* editorDock = addDock(editor_, "IR Editor", "dock.ir", Qt::RightDockWidgetArea);
    QDockWidget* simDock = addDock(sim_, "Simulator", "dock.simulator", Qt::BottomDockWidgetArea);
    QDockWidget* diagDock = addDock(diagnostics_, "Diagnostics", "dock.diagnostics", Qt::BottomDockWidgetArea);
    QDockWidget* floorDock = addDock(floorplan_, "Floorplan", "dock.floorplan", Qt::BottomDockWidgetArea);
    QDockWidget* energyDock = addDock(charts_, "Energy", "dock.energy", Qt::BottomDockWidgetArea);
    tabifyDockWidget(simDock, diagDock);
    tabifyDockWidget(diagDock, floorDock);
    tabifyDockWidget(floorDock, energyDock);
    simDock->raise();
    tabifyDockWidget(inspectorDock, editorDock);
    inspectorDock->raise();
    resizeDocks({pipelineDock}, {260}, Qt::Horizontal);
    resizeDocks({inspectorDock}, {420}, Qt::Horizontal);
    resizeDocks({simDock}, {330}, Qt::Vertical);

    connect(diagnostics_, &DiagnosticsWidget::showIrLine, this, [this, editorDock](int line) {
        editorDock->raise();
        editor_->gotoLine(line);
    });
    connect(diagnostics_, &DiagnosticsWidget::showPass, this, [this, pipelineDock](int index) {
        pipelineDock->raise();
        passes_->selectPass(index);
    });
    connect(passes_, &PassPanel::highlightOps, this, [this](const std::set<int>& ops) { graph_->scene()->highlightOps(ops); });
    // A successful compile is mapped onto the chip (lane "map"); the estimate
    // feeds the charts, the package the chip simulator, whose measured ledger
    // feeds the charts in turn.
    connect(passes_, &PassPanel::compiled, this, [this](bool ok) {
        if (ok && passes_->compiledModule())
            floorplan_->mapModule(passes_->compiledModule(), passes_->pipelineString());
    });
    auto showTarget = [this](const QString& chip) {
        passes_->setTarget(chip);
        if (QAction* compile = action("pipeline.compile")) // created after the panels
            compile->setText("&Compile for " + chip);
    };
    connect(floorplan_, &FloorplanPanel::targetChanged, this, showTarget);
    showTarget(QString::fromStdString(floorplan_->request().chip));
    connect(floorplan_, &FloorplanPanel::energyChanged, charts_, &ChartsPanel::setEstimate);
    connect(floorplan_, &FloorplanPanel::packageChanged, sim_, &SimulatorPanel::setPackage);
    connect(floorplan_, &FloorplanPanel::packageChanged, charts_, [this] { charts_->setMeasured(nullptr); });
    connect(floorplan_, &FloorplanPanel::mapped, this, [this] { inspector_->model()->setMapping(floorplan_->mapping()); });
    connect(sim_, &SimulatorPanel::measuredEnergyChanged, charts_, &ChartsPanel::setMeasured);
    connect(sim_, &SimulatorPanel::measuredCoresChanged, floorplan_, &FloorplanPanel::setMeasurement);
    connect(sim_, &SimulatorPanel::firingRatesChanged, this, [this](const std::map<int, double>& rates, const QString& engine) {
        graph_->setActivity(rates);
        inspector_->model()->setFiringRates(rates, engine);
    });
    createExplorer();
    createBottlenecks();
}

QAction* MainWindow::action(const QString& objectName) const
{
    auto it = actions_.find(objectName);
    return it == actions_.end() ? nullptr : it->second;
}

QList<QDockWidget*> MainWindow::docks() const { return findChildren<QDockWidget*>(); }

void MainWindow::createActions()
{
    auto make = [this](const QString& name, const QString& text, const QString& icon, const QKeySequence& key,
                       auto slot) {
        auto* a = new QAction(text, this);
        a->setObjectName(name);
        if (!icon.isEmpty())
            a->setIcon(QIcon(":/icons/" + icon + ".svg"));
        if (!key.isEmpty())
            a->setShortcut(key);
        connect(a, &QAction::triggered, this, slot);
        actions_[name] = a;
        return a;
    };
    make("file.open", "&Open…", "open", QKeySequence::Open, [this] { openFileDialog(); });
    make("file.openPackage", "Open &Package Directory…", "", {}, [this] { openPackageDialog(); });
    make("file.close", "&Close Model", "", QKeySequence::Close, [this] {
        jobs_->cancelAll();
        doc_->close();
    });
    make("file.saveIr", "Save IR &As…", "", QKeySequence::SaveAs, [this] {
        const QString path = QFileDialog::getSaveFileName(this, "Save Spike IR", {}, "Spike IR (*.sir)");
        if (path.isEmpty() || !doc_->hasModule())
            return;
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(QByteArray::fromStdString(printIr(*doc_->module(), false))) < 0)
            statusBar()->showMessage("Could not write " + path + ": " + f.errorString(), 8000);
        else
            statusBar()->showMessage("Saved " + path, 4000);
    });
    make("file.quit", "&Quit", "", QKeySequence::Quit, [this] { close(); });

    QAction* undo = doc_->undoStack()->createUndoAction(this, "&Undo");
    undo->setObjectName("edit.undo");
    undo->setIcon(QIcon(":/icons/undo.svg"));
    undo->setShortcut(QKeySequence::Undo);
    actions_["edit.undo"] = undo;
    QAction* redo = doc_->undoStack()->createRedoAction(this, "&Redo");
    redo->setObjectName("edit.redo");
    redo->setIcon(QIcon(":/icons/redo.svg"));
    redo->setShortcut(QKeySequence::Redo);
    actions_["edit.redo"] = redo;
    make("edit.bypass", "&Bypass Selected Node", "bypass", QKeySequence(Qt::CTRL | Qt::Key_B), [this] {
        QString why;
        if (!doc_->bypassOp(doc_->selectedOp(), &why))
            statusBar()->showMessage("Cannot bypass: " + why, 6000);
    });
    make("edit.delete", "&Delete Selected Node", "delete", QKeySequence::Delete, [this] {
        QString why;
        if (!doc_->deleteOp(doc_->selectedOp(), &why))
            statusBar()->showMessage("Cannot delete: " + why, 6000);
    });
    make("edit.find", "&Find in Graph", "search", QKeySequence::Find, [this] { graph_->focusSearch(); });

    make("view.fit", "&Fit Graph", "fit", QKeySequence(Qt::Key_F), [this] { graph_->fit(); });
    make("view.zoomIn", "Zoom &In", "zoom-in", QKeySequence::ZoomIn, [this] { graph_->zoomIn(); });
    make("view.zoomOut", "Zoom &Out", "zoom-out", QKeySequence::ZoomOut, [this] { graph_->zoomOut(); });
    make("view.collapseAll", "&Collapse All Groups", "collapse", QKeySequence(Qt::CTRL | Qt::Key_Minus | Qt::SHIFT),
         [this] { graph_->collapseAll(); });
    make("view.expandAll", "&Expand All Groups", "expand", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Equal),
         [this] { graph_->expandAll(); });
    make("view.resetLayout", "&Reset Panel Layout", "", {}, [this] { resetLayout(); });
    make("view.palette", "Command &Palette…", "palette", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P),
         [this] { showCommandPalette(); });
    make("view.gotoDefinition", "&Go to Definition", "", QKeySequence(Qt::Key_F2), [this] { editor_->gotoDefinitionAtCursor(); });

    make("sim.run", "&Run Simulation", "run", QKeySequence(Qt::Key_F5), [this] { sim_->run(); });
    make("sim.pause", "&Pause", "pause", QKeySequence(Qt::SHIFT | Qt::Key_F5), [this] { sim_->pause(); });
    make("sim.step", "&Step One Time Step", "step", QKeySequence(Qt::Key_F10), [this] { sim_->step(); });
    make("sim.reset", "R&eset", "reset", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F5), [this] { sim_->reset(); });
    make("jobs.cancel", "&Cancel Running Jobs", "cancel", QKeySequence(Qt::Key_Escape | Qt::SHIFT),
         [this] { jobs_->cancelAll(); });
    // Its text follows the Floorplan panel's chip (targetChanged).
    make("pipeline.compile", "&Compile for " + passes_->target(), "compile", QKeySequence(Qt::CTRL | Qt::Key_R),
         [this] { passes_->recompile(); });
    make("help.about", "&About STC Studio", "", {}, [this] {
        QMessageBox::about(this, "About STC Studio",
                           QString("<b>STC Studio %1</b><p>Spike-Transformer Compiler IDE: imports PyTorch spiking "
                                   "transformers, shows them as Spike IR, optimizes them with a pass pipeline, maps them onto "
                                   "neuromorphic chips (Loihi 1/2, Loihi 3 projected, and the backends' plugins) and "
                                   "simulates the compiled package bit-accurately with an energy/latency ledger.</p>")
                               .arg(STC_VERSION));
    });
}

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu("&File");
    file->addAction(action("file.open"));
    file->addAction(action("file.openPackage"));
    recentMenu_ = file->addMenu("Open &Recent");
    file->addSeparator();
    file->addAction(action("file.saveIr"));
    file->addAction(action("file.close"));
    file->addSeparator();
    file->addAction(action("file.quit"));

    QMenu* edit = menuBar()->addMenu("&Edit");
    edit->addAction(action("edit.undo"));
    edit->addAction(action("edit.redo"));
    edit->addSeparator();
    edit->addAction(action("edit.bypass"));
    edit->addAction(action("edit.delete"));
    edit->addSeparator();
    edit->addAction(action("edit.find"));
    edit->addAction(action("view.gotoDefinition"));

    viewMenu_ = menuBar()->addMenu("&View");
    viewMenu_->addAction(action("view.palette"));
    viewMenu_->addSeparator();
    for (const char* n : {"view.fit", "view.zoomIn", "view.zoomOut", "view.collapseAll", "view.expandAll"})
        viewMenu_->addAction(action(n));
    viewMenu_->addSeparator();
    QMenu* panels = viewMenu_->addMenu("&Panels");
    for (QDockWidget* d : docks())
        panels->addAction(d->toggleViewAction());
    QMenu* themeMenu = viewMenu_->addMenu("&Theme");
    auto* group = new QActionGroup(this);
    const int current = QSettings().value("view/theme", 0).toInt();
    for (auto [mode, label] : {std::pair{theme::Mode::System, "&System"}, std::pair{theme::Mode::Light, "&Light"},
                               std::pair{theme::Mode::Dark, "&Dark"}}) {
        QAction* a = themeMenu->addAction(label);
        a->setObjectName(QString("view.theme.%1").arg(int(mode)));
        a->setCheckable(true);
        a->setChecked(int(mode) == current);
        group->addAction(a);
        connect(a, &QAction::triggered, this, [this, mode = mode] {
            setThemeMode(mode);
            settings::writeLater("view/theme", int(mode)); // a user's choice; restoring it at start-up writes nothing
        });
    }
    viewMenu_->addAction(action("view.resetLayout"));

    QMenu* run = menuBar()->addMenu("&Run");
    for (const char* n : {"pipeline.compile", "sim.run", "sim.pause", "sim.step", "sim.reset"})
        run->addAction(action(n));
    run->addSeparator();
    run->addAction(action("jobs.cancel"));

    QMenu* help = menuBar()->addMenu("&Help");
    help->addAction(action("help.about"));

    QToolBar* tb = addToolBar("Main");
    tb->setObjectName("toolbar.main");
    tb->setMovable(false);
    tb->setIconSize(QSize(18, 18));
    tb->addAction(action("file.open"));
    tb->addSeparator();
    tb->addAction(action("edit.undo"));
    tb->addAction(action("edit.redo"));
    tb->addSeparator();
    tb->addAction(action("view.fit"));
    tb->addAction(action("view.zoomIn"));
    tb->addAction(action("view.zoomOut"));
    tb->addSeparator();
    tb->addAction(action("pipeline.compile"));
    tb->addAction(action("sim.run"));
    tb->addAction(action("sim.step"));
    tb->addAction(action("sim.reset"));
    tb->addSeparator();
    tb->addAction(action("view.palette"));
}

void MainWindow::createStatusBar()
{
    modelInfo_ = new QLabel(this);
    diagCounts_ = new QLabel(this);
    diagCounts_->setToolTip("Errors and warnings (Diagnostics panel)");
    jobLabel_ = new QLabel(this);
    jobProgress_ = new QProgressBar(this);
    jobProgress_->setRange(0, 1000);
    jobProgress_->setMaximumWidth(180);
    jobProgress_->setMaximumHeight(14);
    jobProgress_->setTextVisible(false);
    cancelButton_ = new QToolButton(this);
    cancelButton_->setIcon(QIcon(":/icons/cancel.svg"));
    cancelButton_->setToolTip("Cancel running jobs");
    cancelButton_->setAutoRaise(true);
    connect(cancelButton_, &QToolButton::clicked, jobs_, &JobRunner::cancelAll);
    statusBar()->addPermanentWidget(modelInfo_);
    statusBar()->addPermanentWidget(diagCounts_);
    statusBar()->addPermanentWidget(jobLabel_);
    statusBar()->addPermanentWidget(jobProgress_);
    statusBar()->addPermanentWidget(cancelButton_);
    jobProgress_->hide();
    cancelButton_->hide();

    auto refreshJobs = [this] {
        const auto running = jobs_->runningJobs();
        if (running.isEmpty()) {
            jobLabel_->clear();
            jobProgress_->hide();
            cancelButton_->hide();
            return;
        }
        const auto& j = running.back();
        jobLabel_->setText(running.size() > 1 ? QString("%1 (+%2)").arg(j.title).arg(running.size() - 1) : j.title);
        jobLabel_->setToolTip(j.message);
        jobProgress_->setValue(int(j.progress * 1000));
        jobProgress_->show();
        cancelButton_->show();
    };
    connect(jobs_, &JobRunner::jobStarted, this, refreshJobs);
    connect(jobs_, &JobRunner::jobProgress, this, refreshJobs);
    connect(jobs_, &JobRunner::jobFinished, this, refreshJobs);
    connect(jobs_, &JobRunner::busyChanged, this, [this](bool busy) {
        if (busy) {
            probe_->start();
        } else {
            probe_->stop();
            lastJobLatencyMs_ = probe_->stats().maxMs;
            jobLabel_->setToolTip(QString("Largest GUI stall during the last jobs: %1 ms").arg(lastJobLatencyMs_, 0, 'f', 1));
        }
    });
    connect(diagnostics_, &DiagnosticsWidget::countsChanged, this, [this](int errors, int warnings) {
        const bool dark = theme::isDark();
        diagCounts_->setText(QString("<span style='color:%1'>● %2</span>&nbsp;&nbsp;<span style='color:%3'>▲ %4</span>")
                                 .arg(errors ? theme::errorColor(dark).name() : palette().color(QPalette::PlaceholderText).name())
                                 .arg(errors)
                                 .arg(warnings ? theme::warningColor(dark).name() : palette().color(QPalette::PlaceholderText).name())
                                 .arg(warnings));
    });
    emit diagnostics_->countsChanged(0, 0);
    statusBar()->showMessage("Open a model (.pt, .sir or .nir), a deployment package or a project (.stcproj) with Ctrl+O "
                             "or drop it onto the window.");
}

void MainWindow::updateTitle()
{
    QString title = "STC Studio";
    if (!doc_->filePath().isEmpty())
        title = QFileInfo(doc_->filePath()).fileName() + (doc_->undoStack()->isClean() ? "" : " •") + " — " + title;
    setWindowTitle(title);
    if (doc_->hasModule()) {
        const ir::Module& m = *doc_->module();
        modelInfo_->setText(QString("%1 ops · %2 params · %3 neurons · T=%4")
                                .arg(m.ops().size())
                                .arg(ir::parameterCount(m))
                                .arg(ir::neuronCount(m))
                                .arg(m.timesteps));
    } else {
        modelInfo_->clear();
    }
}

void MainWindow::updateActions()
{
    const bool has = doc_->hasModule();
    const bool sel = has && doc_->selectedOp() >= 0;
    action("edit.bypass")->setEnabled(sel);
    action("edit.delete")->setEnabled(sel);
    action("file.close")->setEnabled(has);
    action("file.saveIr")->setEnabled(has);
    action("file.saveIr")->setToolTip("Write the current module as Spike IR text");
    for (const char* n : {"sim.run", "sim.step", "sim.reset", "sim.pause"})
        action(n)->setEnabled(sim_->available());
    action("pipeline.compile")->setEnabled(has && passes_->available());
}

std::vector<int64_t> MainWindow::inputShapeFor(const QString& path, bool* cancelled)
{
    *cancelled = false;
    std::vector<int64_t> shape = sidecarInputShape(path.toStdString());
    if (!shape.empty() || !options_.askInputShape)
        return shape;
    bool ok = false;
    const QString text = QInputDialog::getText(
        this, "Model input shape",
        QString("%1 has no .ref.json sidecar.\nInput shape including the batch dimension "
                "(comma separated; empty = let the importer guess):")
            .arg(QFileInfo(path).fileName()),
        QLineEdit::Normal, "1,1,28,28", &ok);
    if (!ok) {
        *cancelled = true;
        return {};
    }
    for (const QString& part : text.split(',', Qt::SkipEmptyParts))
        shape.push_back(part.trimmed().toLongLong());
    return shape;
}

void MainWindow::openFileDialog()
{
    const QString dir = QSettings().value("file/lastDir", QString::fromStdString(util::findResource("models"))).toString();
    const QString path = QFileDialog::getOpenFileName(
        this, "Open model", dir,
        "Models, packages and projects (*.pt *.pth *.sir *.nir manifest.json *.stcproj);;TorchScript (*.pt *.pth);;"
        "Spike IR (*.sir);;NIR graphs (*.nir);;Deployment packages (manifest.json);;Projects (*.stcproj);;All files (*)");
    if (!path.isEmpty()) {
        settings::writeLater("file/lastDir", QFileInfo(path).absolutePath());
        openFile(path);
    }
}

void MainWindow::openFile(const QString& path)
{
    if (!packageDirectoryOf(path.toStdString()).empty()) {
        openPackage(path);
        return;
    }
    openModelFile(path, {});
}

void MainWindow::openRecentFile(const QString& path)
{
    // A .nir graph reopens with this session's answers for it (no question).
    const auto it = nirAnswers_.constFind(QFileInfo(path).absoluteFilePath());
    if (it != nirAnswers_.constEnd() && QFileInfo(path).suffix().toLower() == "nir")
        openModelFile(path, *it);
    else
        openFile(path);
}

void MainWindow::openModelFile(const QString& path, const NirOpenAnswers& nir)
{
    bool cancelled = false;
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == "stcproj")
        return openProject(path);
    const std::vector<int64_t> shape = (suffix == "pt" || suffix == "pth") ? inputShapeFor(path, &cancelled)
                                                                           : std::vector<int64_t>{};
    if (cancelled)
        return;
    statusBar()->showMessage("Opening " + QFileInfo(path).fileName() + "…");
    const std::string p = path.toStdString();
    jobs_->start<LoadOutcome>(
        "import", "Opening " + QFileInfo(path).fileName(),
        [p, shape, nir](JobContext& ctx) {
            return loadModelFile(p, shape, ctx.cancelFlag(),
                                 [&ctx](double f, const std::string& msg) { ctx.progress(f, msg); }, nir);
        },
        [this, path, nir](LoadOutcome r) {
            if (r.needsTimesteps || r.needsDt) {
                QString why;
                if (const auto answers = askNirSettings(path, nir, r.needsTimesteps, r.needsDt, &why)) {
                    openModelFile(path, *answers);
                    return;
                }
                r.diagnostics.error({path.toStdString(), 0, 0}, {}, why.toStdString());
            }
            const bool ok = static_cast<bool>(r.module);
            if (ok) {
                doc_->load(path, r.module, r.diagnostics, QString::fromStdString(r.engine), r.inputShape);
                editor_->setLoadedText(QString::fromStdString(r.sourceText));
                addRecentFile(path);
                QString msg = QString("Opened %1 with the %2 in %3 s")
                                  .arg(QFileInfo(path).fileName(), QString::fromStdString(r.engine))
                                  .arg(r.seconds, 0, 'f', 2);
                if (!r.nirSettings.empty())
                    msg += " · " + QString::fromStdString(r.nirSettings);
                statusBar()->showMessage(msg, r.nirSettings.empty() ? 8000 : 20000);
            } else {
                doc_->setDiagnostics(DiagSource::Load, r.diagnostics);
                if (QDockWidget* d = findChild<QDockWidget*>("dock.diagnostics"))
                    d->raise();
                statusBar()->showMessage("Could not open " + QFileInfo(path).fileName() + " — see Diagnostics", 10000);
            }
            emit fileOpened(path, ok);
        });
}

void MainWindow::addRecentFile(const QString& path)
{
    const QString abs = QFileInfo(path).absoluteFilePath();
    recent_.removeAll(abs);
    recent_.prepend(abs);
    while (recent_.size() > kMaxRecent)
        recent_.removeLast();
    settings::writeLater("file/recent", recent_);
    rebuildRecentMenu();
}

QStringList MainWindow::recentFiles() const { return recent_; }

void MainWindow::rebuildRecentMenu()
{
    recentMenu_->clear();
    const QStringList list = recentFiles();
    for (int i = 0; i < list.size(); ++i) {
        QAction* a = recentMenu_->addAction(QString("&%1  %2").arg(i + 1).arg(QFileInfo(list[i]).fileName()));
        a->setToolTip(list[i]);
        a->setObjectName("file.recent." + QString::number(i));
        connect(a, &QAction::triggered, this, [this, path = list[i]] { openRecentFile(path); });
    }
    if (list.isEmpty())
        recentMenu_->addAction("(none)")->setEnabled(false);
    else {
        recentMenu_->addSeparator();
        connect(recentMenu_->addAction("Clear Recent Files"), &QAction::triggered, this, [this] {
            recent_.clear();
            settings::writeLater("file/recent", {});
            rebuildRecentMenu();
        });
    }
}

void MainWindow::showCommandPalette() { palette_->popup(); }

void MainWindow::resetLayout() { restoreState(defaultState_, kLayoutVersion); }

void MainWindow::setThemeMode(theme::Mode mode)
{
    theme::apply(mode);
    // Custom-painted and cached items pick the palette up on the next paint.
    graph_->relayout();
    sim_->update();
    floorplan_->floorplan()->update();
    charts_->restyle();
    restyleExplorer();
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    jobs_->cancelAll();
    if (options_.restoreLayout) {
        QSettings settings;
        settings.setValue("window/geometry", saveGeometry());
        settings.setValue("window/state", saveState(kLayoutVersion));
    }
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls() && !event->mimeData()->urls().isEmpty() &&
        event->mimeData()->urls().first().isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const auto urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.first().isLocalFile())
        return;
    event->acceptProposedAction();
    openFile(urls.first().toLocalFile());
}

} // namespace stc::views
