// The STC Studio main window: docks, menus, toolbar, status bar with job
// progress, recent files, command palette, drag-and-drop. It wires panels to
// the Document and JobRunner it owns and passes them explicitly; it computes
// nothing itself.
#pragma once

#include "common/theme.h"
#include "document/stages.h"

#include <QHash>
#include <QMainWindow>
#include <QPointer>

#include <functional>
#include <optional>

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QProgressBar;
class QToolButton;

namespace stc::views {

class ChartsPanel;
class CommandPalette;
class FloorplanPanel;
class DiagnosticsWidget;
class Document;
class ExplorerPanel;
class BottleneckPanel;
class InspectorWidget;
class IrEditorPanel;
class JobRunner;
class LatencyProbe;
class PassPanel;
class SimulatorPanel;
namespace graph {
class GraphView;
}

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    struct Options {
        bool askInputShape = true;   // false in tests and headless runs
        bool restoreLayout = true;   // QSettings window state
    };
    explicit MainWindow(Options options, QWidget* parent = nullptr);
    MainWindow() : MainWindow(Options{}) {}
    ~MainWindow() override;

    Document* document() const { return doc_; }
    JobRunner* jobs() const { return jobs_; }
    graph::GraphView* graphView() const { return graph_; }
    IrEditorPanel* irEditor() const { return editor_; }
    SimulatorPanel* simulator() const { return sim_; }
    PassPanel* passPanel() const { return passes_; }
    FloorplanPanel* floorplanPanel() const { return floorplan_; }
    ChartsPanel* chartsPanel() const { return charts_; }
    ExplorerPanel* explorerPanel() const { return explorer_; }
    BottleneckPanel* bottleneckPanel() const { return bottlenecks_; }
    DiagnosticsWidget* diagnostics() const { return diagnostics_; }
    InspectorWidget* inspector() const { return inspector_; }
    CommandPalette* commandPalette() const { return palette_; }
    QList<QDockWidget*> docks() const;
    QAction* action(const QString& objectName) const;
    QStringList recentFiles() const;
    // Largest GUI-thread stall measured while the last job ran.
    double lastJobMaxLatencyMs() const { return lastJobLatencyMs_; }

    // A .nir graph without stc_timesteps and/or stc_dt: the IDE asks once,
    // in one NirOpenDialog, for whichever is missing (suggested: this
    // session's answers for the file, else the last answers, kept in
    // QSettings nir/timesteps and nir/dt, else the open model's T or 4 and
    // dt = 1e-4 s). Tests and headless runs show no dialog: these hooks
    // answer instead. "How many time steps?": an empty result declines (the
    // open fails with an error); without the hook a missing T fails.
    using TimestepsPrompt = std::function<std::optional<int64_t>(const QString& path, int64_t suggested)>;
    void setTimestepsPrompt(TimestepsPrompt prompt) { timestepsPrompt_ = std::move(prompt); }
    // "dt in seconds?" as text (parseNirDt: "1/4096", "1e-4", ...): empty
    // declines, text that is not a positive finite number fails the open
    // with the reason; without the hook a missing dt takes the suggestion.
    using DtPrompt = std::function<std::optional<QString>(const QString& path, const QString& suggested)>;
    void setNirDtPrompt(DtPrompt prompt) { dtPrompt_ = std::move(prompt); }

public slots:
    // Opens a .pt (import job), .sir (parse job), .nir (import job; asks for
    // T when the graph has none), a deployment package (its directory or
    // manifest.json: package job) or a .stcproj project (Explorer panel, lane
    // "project"); anything else is reported.
    void openFile(const QString& path);
    void openFileDialog();
    void openPackageDialog();
    void showCommandPalette();
    void resetLayout();
    void setThemeMode(theme::Mode mode);

signals:
    void fileOpened(const QString& path, bool ok);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void createPanels();
    void createActions();
    void createMenus();
    void createStatusBar();
    void createExplorer(); // main_window_explorer.cpp
    void createBottlenecks(); // main_window_explorer.cpp
    void openProject(const QString& path);
    void restyleExplorer();
    QDockWidget* addDock(QWidget* content, const QString& title, const QString& objectName, Qt::DockWidgetArea area);
    void addRecentFile(const QString& path);
    void rebuildRecentMenu();
    void updateTitle();
    void updateActions();
    std::vector<int64_t> inputShapeFor(const QString& path, bool* cancelled);
    void openModelFile(const QString& path, const NirOpenAnswers& nir);
    void openRecentFile(const QString& path);
    // main_window_open.cpp: packages and the .nir T/dt prompt.
    void openPackage(const QString& path);
    void acceptPackage(const QString& path, PackageOutcome r);
    // The answers for what a .nir graph lacks (added to `given`); nullopt
    // when declined or refused, with the reason in *why.
    std::optional<NirOpenAnswers> askNirSettings(const QString& path, NirOpenAnswers given, bool needsTimesteps,
                                                 bool needsDt, QString* why);

    Options options_;
    Document* doc_;
    JobRunner* jobs_;
    LatencyProbe* probe_;
    graph::GraphView* graph_ = nullptr;
    InspectorWidget* inspector_ = nullptr;
    DiagnosticsWidget* diagnostics_ = nullptr;
    IrEditorPanel* editor_ = nullptr;
    SimulatorPanel* sim_ = nullptr;
    PassPanel* passes_ = nullptr;
    FloorplanPanel* floorplan_ = nullptr;
    ChartsPanel* charts_ = nullptr;
    ExplorerPanel* explorer_ = nullptr;
    BottleneckPanel* bottlenecks_ = nullptr;
    CommandPalette* palette_ = nullptr;
    QMenu* recentMenu_ = nullptr;
    QStringList recent_; // the recent-files list; QSettings is written behind it (settings_writer.h)
    QMenu* viewMenu_ = nullptr;
    QLabel* jobLabel_ = nullptr;
    QProgressBar* jobProgress_ = nullptr;
    QToolButton* cancelButton_ = nullptr;
    QLabel* diagCounts_ = nullptr;
    QLabel* modelInfo_ = nullptr;
    QByteArray defaultState_;
    double lastJobLatencyMs_ = 0;
    std::map<QString, QAction*> actions_;
    TimestepsPrompt timestepsPrompt_;
    DtPrompt dtPrompt_;
    QHash<QString, NirOpenAnswers> nirAnswers_; // this session's answers per .nir file (absolute path)
};

} // namespace stc::views
