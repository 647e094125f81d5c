// MainWindow's part for projects (.stcproj): the Explorer dock, opening a
// project into it, and what its results feed (pass panel, Diagnostics,
// recent files, status bar). Kept apart from main_window.cpp so the window's
// model/package code and this evolve independently.
#include "main/main_window.h"

#include "document/document.h"
#include "explorer/explorer_panel.h"
#include "floorplan/floorplan_panel.h"
#include "sim/bottleneck_panel.h"
#include "sim/simulator_panel.h"
#include "passes/pass_panel.h"

#include <QDockWidget>
#include <QFileInfo>
#include <QStatusBar>

namespace stc::views {

// The Bottlenecks dock: the last chip-simulator run's ranked cores and
// layers; a selected row highlights its layer on the floorplan.
void MainWindow::createBottlenecks()
{
    bottlenecks_ = new BottleneckPanel(this);
    QDockWidget* dock = addDock(bottlenecks_, "Bottlenecks", "dock.bottlenecks", Qt::BottomDockWidgetArea);
    if (QDockWidget* energy = findChild<QDockWidget*>("dock.energy"))
        tabifyDockWidget(energy, dock);
    connect(sim_, &SimulatorPanel::bottlenecksChanged, bottlenecks_, &BottleneckPanel::setBottlenecks);
    connect(bottlenecks_, &BottleneckPanel::layerSelected, this, [this](const QString& name) {
        if (!name.isEmpty() && floorplan_->selectLayerNamed(name))
            statusBar()->showMessage("Floorplan: cores of %" + name + " highlighted", 5000);
    });
}

// The project Explorer (.stcproj): tabbed with the bottom docks; a picked
// configuration's pipeline goes to the pass panel, a model version opens.
void MainWindow::createExplorer()
{
    explorer_ = new ExplorerPanel(jobs_, this);
    QDockWidget* dock = addDock(explorer_, "Explorer", "dock.explorer", Qt::BottomDockWidgetArea);
    if (QDockWidget* energy = findChild<QDockWidget*>("dock.energy"))
        tabifyDockWidget(energy, dock);
    if (QDockWidget* sim = findChild<QDockWidget*>("dock.simulator"))
        sim->raise();
    connect(explorer_, &ExplorerPanel::pipelineRequested, this, [this](const QString& pipeline, const QString& what) {
        passes_->setPipelineText(pipeline);
        if (QDockWidget* d = findChild<QDockWidget*>("dock.pipeline"))
            d->raise();
        statusBar()->showMessage("Pipeline of " + what + (doc_->hasModule() ? "" : " (open a model to compile it)"), 8000);
    });
    connect(explorer_, &ExplorerPanel::openModelRequested, this, &MainWindow::openFile);
    connect(explorer_, &ExplorerPanel::projectLoaded, this, [this](const QString& path, bool ok, const QString& message) {
        Diagnostics d;
        const std::string p = path.toStdString();
        if (!ok)
            d.error({p, 0, 0}, {}, message.toStdString());
        else if (!message.isEmpty())
            d.warning({p, 0, 0}, {}, message.toStdString());
        doc_->setDiagnostics(DiagSource::Project, d);
        if (ok) {
            addRecentFile(path);
            const ProjectSnapshot* s = explorer_->snapshot();
            statusBar()->showMessage(QString("Opened project %1: %2 configurations in %3 ms")
                                         .arg(QFileInfo(path).fileName())
                                         .arg(s->rows.size())
                                         .arg(s->seconds * 1e3, 0, 'f', 1),
                                     8000);
        } else {
            if (QDockWidget* dd = findChild<QDockWidget*>("dock.diagnostics"))
                dd->raise();
            statusBar()->showMessage("Could not open " + QFileInfo(path).fileName() + ": " + message, 15000);
        }
        emit fileOpened(path, ok);
    });
}

void MainWindow::openProject(const QString& path)
{
    if (QDockWidget* d = findChild<QDockWidget*>("dock.explorer")) {
        d->show();
        d->raise();
    }
    statusBar()->showMessage("Opening project " + QFileInfo(path).fileName() + "…");
    explorer_->openProject(path);
}

void MainWindow::restyleExplorer() { explorer_->restyle(); }

} // namespace stc::views
