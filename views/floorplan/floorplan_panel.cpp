#include "floorplan/floorplan_panel.h"

#include "common/theme.h"
#include "document/document.h"
#include "floorplan/floorplan_layer_model.h"
#include "jobs/job_runner.h"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QScrollBar>
#include <QLabel>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

namespace stc::views {

namespace {
QString uj(double pj) { return QString::number(pj * 1e-6, 'f', 3) + " µJ"; }
QString us(double ns) { return QString::number(ns * 1e-3, 'f', 2) + " µs"; }
} // namespace

FloorplanPanel::FloorplanPanel(Document* document, JobRunner* jobs, QWidget* parent)
    : QWidget(parent), doc_(document), jobs_(jobs)
{
    setObjectName("floorplanPanel");
    chip_ = new QComboBox(this);
    chip_->setObjectName("floorplan.chip");
    for (const auto& id : availableChips())
        chip_->addItem(QString::fromStdString(id));
    chip_->setCurrentText("loihi3");
    chip_->setToolTip("Chip descriptor (resources/chips/<id>.json)");
    chips_ = new QSpinBox(this);
    chips_->setObjectName("floorplan.chips");
    chips_->setRange(1, 64);
    chips_->setPrefix("× ");
    chips_->setToolTip("Chips to map onto (multi-chip boards)");
    objective_ = new QComboBox(this);
    objective_->setObjectName("floorplan.objective");
    objective_->addItems({"balanced", "min-cores", "latency"});
    objective_->setToolTip("Allocation objective: balanced (default), fewest cores, or shortest step (all cores)");
    color_ = new QComboBox(this);
    color_->setObjectName("floorplan.color");
    color_->addItem("Layer", int(FloorplanWidget::ColorMode::Layer));
    color_->addItem("Utilization", int(FloorplanWidget::ColorMode::Utilization));
    color_->addItem("Energy", int(FloorplanWidget::ColorMode::Energy));
    color_->addItem("Spike activity", int(FloorplanWidget::ColorMode::Activity));
    color_->setToolTip("Colour cores by layer, utilization of their binding resource, energy per inference or "
                       "spikes sent per step: measured by the last chip-simulator run when there is one, else the "
                       "cost model's estimate (the legend says which)");
    auto* fit = new QToolButton(this);
    fit->setIcon(QIcon(":/icons/fit.svg"));
    fit->setToolTip("Fit (F)");
    status_ = new QLabel(this);
    status_->setObjectName("floorplan.status");
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(0, 0, 0, 0);
    bar->addWidget(new QLabel("Chip", this));
    bar->addWidget(chip_);
    bar->addWidget(chips_);
    bar->addWidget(objective_);
    bar->addSpacing(12);
    bar->addWidget(new QLabel("Colour by", this));
    bar->addWidget(color_);
    bar->addWidget(fit);
    bar->addSpacing(8);
    bar->addWidget(status_, 1);

    banner_ = new QLabel(this);
    banner_->setObjectName("floorplan.projectedBanner");
    banner_->setWordWrap(true);
    banner_->hide();

    layers_ = new FloorplanLayerModel(this);
    list_ = new QTableView(this);
    list_->setObjectName("floorplan.layers");
    list_->setModel(layers_);
    list_->setSelectionBehavior(QAbstractItemView::SelectRows);
    list_->setSelectionMode(QAbstractItemView::SingleSelection);
    list_->verticalHeader()->hide();
    list_->verticalHeader()->setDefaultSectionSize(20);
    // The name column takes what the numbers leave (elided in the middle), so
    // the last column is never cut off behind a horizontal scroll bar.
    list_->horizontalHeader()->setStretchLastSection(false);
    list_->horizontalHeader()->setMinimumSectionSize(24);
    list_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    list_->setShowGrid(false);
    list_->setWordWrap(false);
    list_->setTextElideMode(Qt::ElideMiddle);
    widget_ = new FloorplanWidget(this);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split_ = split;
    split->addWidget(list_);
    split->addWidget(widget_);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setSizes({420, 900});
    summary_ = new QLabel(this);
    summary_->setObjectName("floorplan.summary");
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->setSpacing(4);
    layout->addLayout(bar);
    layout->addWidget(banner_);
    layout->addWidget(split, 1);
    layout->addWidget(summary_);

    setStatus("<span style='color:gray'>Compile a model (Ctrl+R) to map it onto the chip.</span>");

    connect(fit, &QToolButton::clicked, widget_, &FloorplanWidget::fit);
    connect(color_, &QComboBox::currentIndexChanged, this, [this] {
        widget_->setColorMode(FloorplanWidget::ColorMode(color_->currentData().toInt()));
    });
    connect(chip_, &QComboBox::currentTextChanged, this, &FloorplanPanel::targetChanged);
    for (QComboBox* c : {chip_, objective_})
        connect(c, &QComboBox::currentIndexChanged, this, [this] {
            if (!syncing_) {
                pinned_ = false;
                remap();
            }
        });
    connect(chips_, &QSpinBox::valueChanged, this, [this] {
        if (!syncing_) {
            pinned_ = false;
            remap();
        }
    });
    connect(list_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& i) {
        if (!syncing_)
            selectLayer(i.isValid() ? i.row() : -1);
    });
    connect(widget_, &FloorplanWidget::layerClicked, this, &FloorplanPanel::selectLayer);
    connect(doc_, &Document::selectionChanged, this, [this](int op) {
        const int row = layers_->rowForOp(op);
        if (row >= 0 && row != widget_->selectedLayer())
            selectLayer(row);
    });
    connect(doc_, &Document::loaded, this, [this] {
        pinned_ = false;
        compiled_.reset();
        data_.reset();
        energy_.reset();
        package_.reset();
        jobs_->cancel("map");
        showData();
        emit energyChanged(nullptr);
        emit packageChanged(nullptr);
    });
}

QString FloorplanPanel::statusText() const { return status_->text(); }
bool FloorplanPanel::mappingRunning() const { return jobs_->isRunning("map"); }

void FloorplanPanel::setStatus(const QString& html) { status_->setText(html); }

MapRequest FloorplanPanel::request() const
{
    MapRequest r;
    r.chip = chip_->currentText().toStdString();
    r.chips = chips_->value();
    r.objective = objective_->currentText().toStdString();
    return r;
}

void FloorplanPanel::setRequest(const MapRequest& r)
{
    syncing_ = true;
    chip_->setCurrentText(QString::fromStdString(r.chip));
    chips_->setValue(r.chips);
    objective_->setCurrentText(QString::fromStdString(r.objective));
    syncing_ = false;
    remap();
}

void FloorplanPanel::mapModule(ModulePtr compiled, const QString& pipeline)
{
    compiled_ = std::move(compiled);
    pipeline_ = pipeline;
    if (pinned_) {
        setStatus(QString("showing the opened package · <span style='color:gray'>the compiled model is mapped when "
                          "you change the chip, chip count or objective</span>"));
        return;
    }
    remap();
}

void FloorplanPanel::showPackage(std::shared_ptr<const FloorplanData> floorplan, std::shared_ptr<const ChipPackage> package)
{
    jobs_->cancel("map");
    pinned_ = floorplan != nullptr;
    data_ = std::move(floorplan);
    energy_.reset();
    package_ = std::move(package);
    if (data_) {
        syncing_ = true;
        if (chip_->findText(data_->chipId) >= 0)
            chip_->setCurrentText(data_->chipId);
        chips_->setValue(data_->chips);
        if (objective_->findText(data_->objective) >= 0)
            objective_->setCurrentText(data_->objective);
        syncing_ = false;
    }
    showData();
    if (data_)
        setStatus(QString("<span style='color:%1'>✓</span> package <b>%2</b>: placement as recorded")
                      .arg(theme::okColor(theme::isDark()).name(), QFileInfo(data_->packageDir).fileName().toHtmlEscaped()));
    emit energyChanged(nullptr);
    emit packageChanged(package_);
    emit mapped(data_ != nullptr);
}

void FloorplanPanel::setMeasurement(std::shared_ptr<const FloorMeasurement> measurement)
{
    layers_->setMeasurement(measurement);
    widget_->setMeasurement(std::move(measurement));
}

void FloorplanPanel::remap()
{
    if (!compiled_)
        return;
    MapRequest req = request();
    req.pipeline = pipeline_.toStdString();
    ModulePtr module = compiled_;
    ModulePtr document = doc_->module();
    setStatus(QString("mapping onto %1 × %2…").arg(req.chips).arg(QString::fromStdString(req.chip)));
    jobs_->start<MapOutcome>(
        "map", QString("Mapping onto %1").arg(QString::fromStdString(req.chip)),
        [module, document, req](JobContext& ctx) {
            return ::stc::views::mapModule(*module, document.get(), req, ctx.cancelFlag(),
                             [&ctx](double f, const std::string& m) { ctx.progress(f, m); });
        },
        [this](MapOutcome r) {
            ++mapCount_;
            doc_->setDiagnostics(DiagSource::Mapping, r.diagnostics);
            const bool dark = theme::isDark();
            if (!r.ok()) {
                setStatus(QString("<span style='color:%1'>✗ %2</span>")
                              .arg(theme::errorColor(dark).name(), QString::fromStdString(r.error).toHtmlEscaped()));
                status_->setToolTip(QString::fromStdString(r.error));
                emit mapped(false);
                return;
            }
            lastSeconds_ = r.seconds;
            data_ = r.floorplan;
            energy_ = r.energy;
            package_ = r.package;
            showData();
            setStatus(QString("<span style='color:%1'>✓</span> mapped in %2 ms")
                          .arg(theme::okColor(dark).name())
                          .arg(r.seconds * 1000, 0, 'f', 0));
            emit energyChanged(energy_);
            emit packageChanged(package_);
            emit mapped(true);
        });
}

void FloorplanPanel::showData()
{
    syncing_ = true;
    const int selected = widget_->selectedLayer();
    layers_->setData(data_);
    widget_->setMeasurement(nullptr); // measured on the previous package
    widget_->setData(data_);
    fitLayerList();
    syncing_ = false;
    if (!data_) {
        banner_->hide();
        summary_->clear();
        return;
    }
    selectLayer(selected < int(data_->layers.size()) ? selected : -1);
    const bool dark = theme::isDark();
    if (data_->projectedChip) {
        banner_->setText(QString("<b>⚠ %1 is a projected chip.</b> There is no public specification: all %2 "
                                 "descriptor numbers (limits, energies, latencies) are assumptions, so every "
                                 "number here is a <b>projection</b>. <span style='color:gray'>%3</span>")
                             .arg(data_->chipName.toHtmlEscaped())
                             .arg(data_->projectedNumbers)
                             .arg(data_->projectionNote.toHtmlEscaped()));
        banner_->setStyleSheet(QString("QLabel { background: %1; color: %2; border: 1px solid %3; border-radius: 3px; "
                                       "padding: 3px 6px; }")
                                   .arg(dark ? "#3d3216" : "#fff4d6", dark ? "#f3e1b0" : "#5c4200",
                                        theme::warningColor(dark).name()));
        banner_->show();
    } else if (data_->projectedNumbers > 0) {
        banner_->setText(QString("%1 of %2's descriptor numbers are projections (see its JSON); energies and "
                                 "latencies that use them are estimates of estimates.")
                             .arg(data_->projectedNumbers)
                             .arg(data_->chipName.toHtmlEscaped()));
        banner_->setStyleSheet({});
        banner_->show();
    } else {
        banner_->hide();
    }
    if (!data_->perCoreEstimate) {
        summary_->setText(QString("<b>%1</b> cores on %2 chip(s) · from the package (placement, neurons, axons and "
                                  "synapse bytes counted from its core blobs) · its estimate: latency %3, energy %4 per "
                                  "inference <span style='color:gray'>[%5; per-core energy and activity: run the chip "
                                  "simulator (F5) to colour by measured values]</span>")
                              .arg(data_->cores.size())
                              .arg(data_->chips)
                              .arg(us(data_->latencyNs), uj(data_->dynamicPj),
                                   data_->projectedChip ? "estimate, PROJECTED" : "estimate"));
        summary_->setToolTip("<pre>" + data_->summary.toHtmlEscaped() + "</pre>");
        return;
    }
    const QString tag = data_->projectedChip ? "estimate, PROJECTED" : "estimate";
    summary_->setText(QString("<b>%1</b> cores on %2 chip(s) · objective %3 · binding utilization %4 % · step %5 ns "
                              "· latency %6 · energy %7 per inference (dynamic %8 + static %9) "
                              "<span style='color:gray'>[%10; firing rates %11]</span>")
                          .arg(data_->cores.size())
                          .arg(data_->chips)
                          .arg(data_->objective)
                          .arg(data_->meanBindingUtilization * 100, 0, 'f', 1)
                          .arg(data_->stepTimeNs, 0, 'f', 0)
                          .arg(us(data_->latencyNs), uj(data_->dynamicPj + data_->staticPj), uj(data_->dynamicPj),
                               uj(data_->staticPj), tag, data_->ratesMeasured ? "measured" : "assumed"));
    summary_->setToolTip("<pre>" + data_->summary.toHtmlEscaped() + "</pre>");
}

void FloorplanPanel::fitLayerList()
{
    QHeaderView* header = list_->horizontalHeader();
    list_->resizeColumnsToContents();
    int numbers = 0;
    for (int c = 1; c < layers_->columnCount(); ++c) {
        header->setSectionResizeMode(c, QHeaderView::Fixed);
        numbers += list_->columnWidth(c);
    }
    header->setSectionResizeMode(0, QHeaderView::Stretch);
    // Room for the numbers, a readable name and the vertical scroll bar.
    const QAbstractItemView* view = list_; // sizeHintForColumn is public there, protected in QTableView
    const int nameWidth = std::min(view->sizeHintForColumn(0), 200);
    const int frame = 2 * list_->frameWidth() + list_->verticalScrollBar()->sizeHint().width() + 2;
    list_->setMinimumWidth(numbers + 90 + frame);
    const QList<int> sizes = split_->sizes();
    const int want = numbers + nameWidth + frame;
    if (sizes.size() == 2 && sizes[0] < want)
        split_->setSizes({want, std::max(100, sizes[0] + sizes[1] - want)});
}

bool FloorplanPanel::selectLayerNamed(const QString& name)
{
    if (data_)
        for (size_t i = 0; i < data_->layers.size(); ++i)
            if (data_->layers[i].name == name) {
                selectLayer(int(i));
                return true;
            }
    return false;
}

void FloorplanPanel::selectLayer(int layer)
{
    if (!data_ || layer >= int(data_->layers.size()))
        layer = -1;
    widget_->setSelectedLayer(layer);
    syncing_ = true;
    if (layer >= 0)
        list_->selectRow(layer);
    else
        list_->clearSelection();
    syncing_ = false;
    if (layer >= 0) {
        const int op = data_->layers[size_t(layer)].opIndex;
        if (op >= 0 && op != doc_->selectedOp() && doc_->hasModule() && op < int(doc_->module()->ops().size()))
            doc_->selectOp(op);
    }
}

} // namespace stc::views
