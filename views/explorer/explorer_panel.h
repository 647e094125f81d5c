// Explorer: the project file (.stcproj) panel. Opens a project off the GUI
// thread (JobRunner lane "project"), shows its configurations in a sortable
// table and a trade-off scatter (energy or latency vs accuracy, the store's
// Pareto front highlighted), its model versions, tags and sweeps, and exports
// the table (CSV) and the plot (PNG, SVG). Picking a configuration (row
// double-click, point click) asks for its pipeline in the Pass Pipeline panel.
#pragma once

#include "explorer/project_snapshot.h"
#include "explorer/tradeoff_plot.h"

#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QSortFilterProxyModel;
class QStackedWidget;
class QTabWidget;
class QTableView;
class QTableWidget;
class QToolButton;

namespace stc::views {

class ExplorerModel;
class JobRunner;

class ExplorerPanel : public QWidget {
    Q_OBJECT
public:
    explicit ExplorerPanel(JobRunner* jobs, QWidget* parent = nullptr);

    // Reads the project in lane "project"; projectLoaded reports the outcome.
    void openProject(const QString& path);
    void reload();
    void clear();

    const ProjectSnapshot* snapshot() const { return snap_.get(); }
    QString projectPath() const { return path_; }
    QString errorText() const { return error_; }
    ExplorerModel* model() const { return model_; }
    QSortFilterProxyModel* proxy() const { return proxy_; }
    QTableView* table() const { return table_; }
    TradeoffPlot* plot() const { return plot_; }
    QComboBox* axisBox() const { return axisBox_; }
    QTableWidget* modelsTable() const { return models_; }
    QTableWidget* tagsTable() const { return tags_; }
    QLabel* errorLabel() const { return errorLabel_; }
    QTabWidget* tabs() const { return tabs_; }
    // GUI-thread time of the last result callback (model, tables; ms) and of
    // the chart built right after it in a zero-timer.
    double lastShowMs() const { return showMs_; }
    double lastPlotMs() const { return plotMs_; }
    bool plotPending() const { return plotPending_; }

    bool exportCsv(const QString& path, QString* error = nullptr) const;
    bool exportPng(const QString& path, QString* error = nullptr);
    bool exportSvg(const QString& path, QString* error = nullptr);
    // As if the user picked this configuration: emits pipelineRequested.
    void activateRun(int64_t runId);
    void restyle();

signals:
    void projectLoaded(const QString& path, bool ok, const QString& message);
    // IR pipeline text of a configuration (for the pass panel) and what it is.
    void pipelineRequested(const QString& pipeline, const QString& description);
    void openModelRequested(const QString& modelPath);

private:
    void showSnapshot(std::shared_ptr<const ProjectSnapshot> snapshot);
    void showError(const QString& message, const QString& heading = "Could not open the project");
    void fillSideTables();
    void exportDialog(const QString& kind);

    JobRunner* jobs_;
    std::shared_ptr<const ProjectSnapshot> snap_;
    QString path_, error_;
    ExplorerModel* model_;
    QSortFilterProxyModel* proxy_;
    QStackedWidget* stack_;
    QLabel* placeholder_;
    QLabel* title_;
    QLabel* errorLabel_;
    QComboBox* axisBox_;
    QToolButton* exportButton_;
    QToolButton* reloadButton_;
    QTabWidget* tabs_;
    QTableView* table_;
    QTableWidget* models_;
    QTableWidget* tags_;
    TradeoffPlot* plot_;
    double showMs_ = 0, plotMs_ = 0;
    bool plotPending_ = false;
};

} // namespace stc::views
