#include "explorer/explorer_panel.h"

#include "common/theme.h"
#include "explorer/explorer_model.h"
#include "jobs/job_runner.h"

#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace stc::views {

namespace {

constexpr QSize kExportSize(1000, 640);

QTableWidget* makeSideTable(QWidget* parent, const QString& name, const QStringList& headers)
{
    auto* t = new QTableWidget(0, int(headers.size()), parent);
    t->setObjectName(name);
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setAlternatingRowColors(true);
    t->horizontalHeader()->setStretchLastSection(true);
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 6);
    return t;
}

QTableWidgetItem* item(const QString& text, const QString& tip = {})
{
    auto* i = new QTableWidgetItem(text);
    if (!tip.isEmpty())
        i->setToolTip(tip);
    return i;
}

QString shapeText(const std::vector<int64_t>& shape)
{
    QStringList s;
    for (int64_t d : shape)
        s << QString::number(d);
    return s.join("×");
}

} // namespace

ExplorerPanel::ExplorerPanel(JobRunner* jobs, QWidget* parent) : QWidget(parent), jobs_(jobs)
{
    setObjectName("explorerPanel");
    model_ = new ExplorerModel(this);
    proxy_ = new QSortFilterProxyModel(this);
    proxy_->setSourceModel(model_);
    proxy_->setSortRole(ExplorerModel::SortRole);

    title_ = new QLabel(this);
    title_->setObjectName("explorer.title");
    title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    axisBox_ = new QComboBox(this);
    axisBox_->setObjectName("explorer.axis");
    axisBox_->addItems({"Energy vs accuracy", "Latency vs accuracy"});
    axisBox_->setToolTip("What the scatter plots against top-1 accuracy (cost-model estimates per inference)");
    exportButton_ = new QToolButton(this);
    exportButton_->setObjectName("explorer.export");
    exportButton_->setText("Export");
    exportButton_->setPopupMode(QToolButton::InstantPopup);
    auto* menu = new QMenu(exportButton_);
    for (const auto& [kind, text] : {std::pair{"csv", "Table as CSV…"}, std::pair{"png", "Plot as PNG…"},
                                     std::pair{"svg", "Plot as SVG…"}}) {
        QAction* a = menu->addAction(text);
        a->setObjectName(QString("explorer.export.") + kind);
        connect(a, &QAction::triggered, this, [this, k = QString(kind)] { exportDialog(k); });
    }
    exportButton_->setMenu(menu);
    reloadButton_ = new QToolButton(this);
    reloadButton_->setObjectName("explorer.reload");
    reloadButton_->setText("Reload");
    reloadButton_->setToolTip("Read the project file again (e.g. after `stc sweep --project` added runs)");
    connect(reloadButton_, &QToolButton::clicked, this, &ExplorerPanel::reload);

    errorLabel_ = new QLabel(this);
    errorLabel_->setObjectName("explorer.error");
    errorLabel_->setWordWrap(true);
    errorLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    errorLabel_->hide();

    table_ = new QTableView(this);
    table_->setObjectName("explorer.table");
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(ExplorerModel::Run, Qt::AscendingOrder);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setAlternatingRowColors(true);
    table_->setWordWrap(false);
    table_->verticalHeader()->hide();
    table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
        activateRun(proxy_->data(i, ExplorerModel::RunIdRole).toLongLong());
    });

    models_ = makeSideTable(this, "explorer.models", {"Model", "File", "SHA-256", "Input", "T", "Added", "Diagnostics"});
    models_->setToolTip("Model versions recorded in the project; double-click to open one in the IDE");
    connect(models_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (QTableWidgetItem* i = models_->item(row, 1))
            emit openModelRequested(i->data(Qt::UserRole).toString());
    });
    tags_ = makeSideTable(this, "explorer.tags", {"Run", "Tag", "Since", "Tool", "Note"});

    tabs_ = new QTabWidget(this);
    tabs_->setObjectName("explorer.tabs");
    tabs_->setDocumentMode(true);
    tabs_->addTab(table_, "Configurations");
    tabs_->addTab(models_, "Model versions");
    tabs_->addTab(tags_, "Tags && sweeps");

    plot_ = new TradeoffPlot(this);
    connect(plot_, &TradeoffPlot::runClicked, this, [this](qint64 run) { activateRun(run); });
    connect(plot_, &TradeoffPlot::runHovered, this, [this](qint64 run) {
        const int row = model_->rowOf(run);
        if (row >= 0)
            table_->selectRow(proxy_->mapFromSource(model_->index(row, 0)).row());
    });
    connect(axisBox_, &QComboBox::currentIndexChanged, this, [this](int i) {
        plot_->setAxis(i == 1 ? TradeoffPlot::Axis::Latency : TradeoffPlot::Axis::Energy);
    });

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->setObjectName("explorer.split");
    split->addWidget(tabs_);
    split->addWidget(plot_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);

    placeholder_ = new QLabel(this);
    placeholder_->setObjectName("explorer.placeholder");
    placeholder_->setAlignment(Qt::AlignCenter);
    placeholder_->setWordWrap(true);
    placeholder_->setText("<p><b>No project open.</b></p><p>Open a project file (<code>.stcproj</code>) with "
                          "File › Open… or drop it here. <code>stc sweep MODEL --bits 8,4 --sparsity 0,0.5 "
                          "--project FILE.stcproj</code> makes one; <code>stc compile --project</code> adds runs.</p>");
    placeholder_->setTextFormat(Qt::RichText);
    stack_ = new QStackedWidget(this);
    stack_->addWidget(placeholder_);
    stack_->addWidget(split);

    auto* top = new QHBoxLayout;
    top->addWidget(title_, 1);
    top->addWidget(axisBox_);
    top->addWidget(exportButton_);
    top->addWidget(reloadButton_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(top);
    layout->addWidget(errorLabel_);
    layout->addWidget(stack_, 1);
    clear();
}

void ExplorerPanel::clear()
{
    snap_.reset();
    path_.clear();
    model_->setSnapshot(nullptr);
    plot_->setSnapshot(nullptr);
    plotPending_ = false;
    fillSideTables();
    title_->setText("<b>Explorer</b> · no project");
    stack_->setCurrentIndex(0);
    for (QWidget* w : std::initializer_list<QWidget*>{axisBox_, exportButton_, reloadButton_})
        w->setEnabled(false);
}

void ExplorerPanel::openProject(const QString& path)
{
    const std::string p = QFileInfo(path).absoluteFilePath().toStdString();
    jobs_->start<ProjectLoad>(
        "project", "Opening project " + QFileInfo(path).fileName(),
        [p](JobContext& ctx) {
            ctx.progress(0.1, "reading the project");
            return loadProjectSnapshot(p, ctx.cancelFlag());
        },
        [this, path](ProjectLoad r) {
            if (!r.snapshot) {
                showError(QString::fromStdString(r.error));
                emit projectLoaded(path, false, error_);
                return;
            }
            path_ = path;
            error_.clear();
            errorLabel_->hide();
            showSnapshot(std::move(r.snapshot));
            emit projectLoaded(path, true, QString::fromStdString(snap_->note));
        });
}

void ExplorerPanel::reload()
{
    if (!path_.isEmpty())
        openProject(path_);
}

void ExplorerPanel::showError(const QString& message, const QString& heading)
{
    error_ = message;
    errorLabel_->setText(QString("<span style='color:%1'><b>%2:</b> %3</span>")
                             .arg(theme::errorColor(theme::isDark()).name(), heading.toHtmlEscaped(), message.toHtmlEscaped()));
    errorLabel_->show();
}

void ExplorerPanel::showSnapshot(std::shared_ptr<const ProjectSnapshot> snapshot)
{
    QElapsedTimer timer;
    timer.start();
    snap_ = std::move(snapshot);
    model_->setSnapshot(snap_);
    // The chart is built in a zero-timer after the table (as the Energy
    // panel does): two short GUI-thread slices instead of one long one.
    plotPending_ = true;
    QTimer::singleShot(0, this, [this, shown = snap_] {
        if (snap_ != shown)
            return; // a newer project (or none) replaced it meanwhile
        QElapsedTimer t;
        t.start();
        plot_->setSnapshot(shown);
        plotPending_ = false;
        plotMs_ = double(t.nsecsElapsed()) / 1e6;
    });
    fillSideTables();
    const auto& info = snap_->info;
    title_->setText(QString("<b>%1</b> · %2 · schema %3 · %4 configurations (%5 on a Pareto front) · %6 model "
                            "version%7 · <span style='color:gray'>%8</span>")
                        .arg(QString::fromStdString(info.name).toHtmlEscaped(), QString::fromStdString(info.chip))
                        .arg(info.schemaVersion)
                        .arg(snap_->rows.size())
                        .arg(std::ranges::count_if(snap_->rows, [](const ExplorerRow& r) {
                            return r.onEnergyFront || r.onLatencyFront;
                        }))
                        .arg(snap_->models.size())
                        .arg(snap_->models.size() == 1 ? "" : "s")
                        .arg(QString::fromStdString(snap_->path).toHtmlEscaped()));
    title_->setToolTip(QString::fromStdString(info.notes));
    stack_->setCurrentIndex(1);
    for (QWidget* w : std::initializer_list<QWidget*>{axisBox_, exportButton_, reloadButton_})
        w->setEnabled(true);
    // Simulated columns only when a simulation run is linked to some configuration.
    const bool anySim = std::ranges::any_of(snap_->rows, [](const ExplorerRow& r) { return r.point.simEnergyPj.has_value(); });
    table_->setColumnHidden(ExplorerModel::SimEnergy, !anySim);
    table_->setColumnHidden(ExplorerModel::SimLatency, !anySim);
    table_->resizeColumnsToContents();
    table_->setColumnWidth(ExplorerModel::Pipeline, std::min(table_->columnWidth(ExplorerModel::Pipeline), 300));
    showMs_ = double(timer.nsecsElapsed()) / 1e6;
}

void ExplorerPanel::fillSideTables()
{
    models_->setRowCount(0);
    tags_->setRowCount(0);
    if (!snap_)
        return;
    const int64_t current = snap_->info.model ? snap_->info.model->id : 0;
    for (const store::ModelSource& m : snap_->models) {
        const int r = models_->rowCount();
        models_->insertRow(r);
        const QString path = QString::fromStdString(m.path);
        models_->setItem(r, 0, item(QString::number(m.id) + (m.id == current ? " (current)" : "")));
        QTableWidgetItem* file = item(QFileInfo(path).fileName(), path);
        file->setData(Qt::UserRole, path);
        models_->setItem(r, 1, file);
        models_->setItem(r, 2, item(QString::fromStdString(m.sha256.substr(0, 12)), QString::fromStdString(m.sha256)));
        models_->setItem(r, 3, item(shapeText(m.inputShape)));
        models_->setItem(r, 4, item(QString::number(m.timesteps)));
        models_->setItem(r, 5, item(QString::fromStdString(m.addedAt)));
        const QString diags = QString::fromStdString(m.diagnostics).trimmed();
        models_->setItem(r, 6, item(diags.isEmpty() ? "0" : QString::number(diags.count('\n') + 1), diags));
    }
    for (const store::RunTag& t : snap_->tags) {
        const int r = tags_->rowCount();
        tags_->insertRow(r);
        tags_->setItem(r, 0, item(QString::number(t.runId)));
        tags_->setItem(r, 1, item(QString::fromStdString(t.tag)));
        tags_->setItem(r, 2, item(QString::fromStdString(t.createdAt)));
        tags_->setItem(r, 3, item(QString::fromStdString(t.toolVersion)));
        tags_->setItem(r, 4, item(QString::fromStdString(t.note)));
    }
    for (const store::SweepInfo& s : snap_->sweeps) {
        const int r = tags_->rowCount();
        tags_->insertRow(r);
        tags_->setItem(r, 0, item("—"));
        tags_->setItem(r, 1, item(QString("sweep %1").arg(s.id)));
        tags_->setItem(r, 2, item(QString::fromStdString(s.createdAt)));
        tags_->setItem(r, 3, item(QString::fromStdString(s.toolVersion)));
        tags_->setItem(r, 4, item(QString::fromStdString(s.description)));
    }
    models_->resizeColumnsToContents();
    tags_->resizeColumnsToContents();
}

void ExplorerPanel::activateRun(int64_t runId)
{
    const ExplorerRow* r = snap_ ? snap_->row(runId) : nullptr;
    if (!r)
        return;
    const int row = model_->rowOf(runId);
    table_->selectRow(proxy_->mapFromSource(model_->index(row, 0)).row());
    if (r->irPipeline.empty() && !r->irPipelineError.empty()) {
        showError(QString("the recorded pipeline does not parse in this build: %1")
                      .arg(QString::fromStdString(r->irPipelineError)),
                  QString("Run %1").arg(runId));
        return;
    }
    emit pipelineRequested(QString::fromStdString(r->irPipeline),
                           QString("run %1 (%2) of %3").arg(runId).arg(configurationText(r->point.meta),
                                                                      QFileInfo(path_).fileName()));
}

bool ExplorerPanel::exportCsv(const QString& path, QString* error) const
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(model_->toCsv().toUtf8()) < 0) {
        if (error)
            *error = "could not write " + path + ": " + f.errorString();
        return false;
    }
    return true;
}

bool ExplorerPanel::exportPng(const QString& path, QString* error) { return plot_->savePng(path, kExportSize, error); }
bool ExplorerPanel::exportSvg(const QString& path, QString* error) { return plot_->saveSvg(path, kExportSize, error); }

void ExplorerPanel::exportDialog(const QString& kind)
{
    QSettings settings;
    const QString base = QFileInfo(path_).completeBaseName() + (kind == "csv" ? "" : "-tradeoff");
    const QString dir = settings.value("explorer/exportDir", QFileInfo(path_).absolutePath()).toString();
    const QString filter = kind == "csv" ? "CSV (*.csv)" : kind == "png" ? "PNG image (*.png)" : "SVG image (*.svg)";
    const QString path = QFileDialog::getSaveFileName(this, "Export", dir + "/" + base + "." + kind, filter);
    if (path.isEmpty())
        return;
    settings.setValue("explorer/exportDir", QFileInfo(path).absolutePath());
    QString error;
    const bool ok = kind == "csv" ? exportCsv(path, &error) : kind == "png" ? exportPng(path, &error) : exportSvg(path, &error);
    if (!ok)
        showError(error, "Export failed");
}

void ExplorerPanel::restyle() { plot_->restyle(); }

} // namespace stc::views
