#include "charts/charts_panel.h"

#include "charts/energy_model.h"
#include "common/theme.h"

#include <QApplication>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QBarSeries>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QCursor>
#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QStandardItemModel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QTabWidget>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace stc::views {

namespace {

constexpr int kMaxLayers = 24; // more layers are summed into "other layers"

void styleChart(QChart* chart, const QString& title)
{
    // No setTheme(): applying a theme restyles everything and is slow; the
    // few colours that matter are set here and on each series.
    chart->setBackgroundBrush(QApplication::palette().color(QPalette::Base));
    chart->setBackgroundRoundness(0);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setTitle(title);
    QFont f = QApplication::font();
    f.setBold(true);
    chart->setTitleFont(f);
    chart->setTitleBrush(QApplication::palette().color(QPalette::Text));
    chart->setAnimationOptions(QChart::NoAnimation);
    QFont lf = QApplication::font();
    lf.setPointSizeF(lf.pointSizeF() * 0.85);
    chart->legend()->setFont(lf);
    chart->legend()->setLabelColor(QApplication::palette().color(QPalette::Text));
}

void styleAxis(QAbstractAxis* axis, const QString& title = {})
{
    QFont f = QApplication::font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    axis->setLabelsFont(f);
    axis->setTitleFont(f);
    axis->setLabelsBrush(QApplication::palette().color(QPalette::Text));
    axis->setTitleBrush(QApplication::palette().color(QPalette::Text));
    axis->setGridLineColor(QApplication::palette().color(QPalette::Midlight));
    if (!title.isEmpty())
        axis->setTitleText(title);
}

// One colour per event kind, stable across runs.
QColor kindColor(const QString& kind, bool dark)
{
    static const QStringList order{"synaptic_op", "neuron_update_active", "neuron_update_idle", "spike_within_tile",
                                   "hop_ew",      "hop_ns",               "chip_link",          "static"};
    static const char* light[] = {"#3b6fb6", "#e07b39", "#f2c38f", "#4aa564", "#8e6bbf", "#b48ad8", "#d2483e", "#888"};
    static const char* darkc[] = {"#6d9fe6", "#f39a5c", "#f6d3a8", "#6cc685", "#ab8ddb", "#caa9ea", "#ef6f66", "#aaa"};
    const int i = std::max(0, int(order.indexOf(kind)));
    return QColor(dark ? darkc[i] : light[i]);
}

// Unit scale for an axis whose values go up to `maxPj`.
std::pair<double, QString> energyUnit(double maxPj)
{
    if (maxPj >= 1e6)
        return {1e-6, "µJ"};
    if (maxPj >= 1e3)
        return {1e-3, "nJ"};
    return {1.0, "pJ"};
}

QChartView* makeView(QWidget* parent, const QString& name)
{
    auto* v = new QChartView(new QChart, parent);
    v->setObjectName(name);
    v->setRenderHint(QPainter::Antialiasing);
    v->setMinimumHeight(160);
    return v;
}

} // namespace

ChartsPanel::ChartsPanel(QWidget* parent) : QWidget(parent)
{
    setObjectName("chartsPanel");
    model_ = new EnergyLayerModel(this);
    origin_ = new QLabel(this);
    origin_->setObjectName("charts.origin");
    origin_->setWordWrap(true);
    measured_ = new QLabel(this);
    measured_->setObjectName("charts.measured");
    measured_->setWordWrap(true);
    projected_ = new QLabel(this);
    projected_->setObjectName("charts.projected");
    projected_->setWordWrap(true);
    projected_->hide();
    sourceBox_ = new QComboBox(this);
    sourceBox_->setObjectName("charts.source");
    sourceBox_->addItem("Measured (chip simulator)", int(Source::Measured));
    sourceBox_->addItem("Estimate (cost model)", int(Source::Estimate));
    sourceBox_->setCurrentIndex(1);
    sourceBox_->setToolTip("Measured: core/sim's energy ledger of the last chip-simulator run (simulated event counts "
                           "× descriptor constants). Estimate: the cost model at assumed firing rates.");
    connect(sourceBox_, &QComboBox::activated, this, [this] {
        sourceChosen_ = true;
        choose();
    });
    buildTimer_ = new QTimer(this);
    buildTimer_->setSingleShot(true);
    buildTimer_->setInterval(0);
    connect(buildTimer_, &QTimer::timeout, this, &ChartsPanel::buildVisible);
    tabs_ = new QTabWidget(this);
    tabs_->setDocumentMode(true);
    layerView_ = makeView(this, "charts.layers");
    stepView_ = makeView(this, "charts.steps");
    utilView_ = makeView(this, "charts.utilization");
    tabs_->addTab(layerView_, "Energy per layer");
    tabs_->addTab(stepView_, "Per time step");
    tabs_->addTab(utilView_, "Core utilization");
    connect(tabs_, &QTabWidget::currentChanged, this, [this] { buildVisible(); });
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->setSpacing(3);
    layout->addWidget(projected_);
    auto* head = new QHBoxLayout;
    head->addWidget(new QLabel("Source", this));
    head->addWidget(sourceBox_);
    head->addWidget(origin_, 1);
    layout->addLayout(head);
    layout->addWidget(measured_);
    layout->addWidget(tabs_, 1);
    choose();
}

void ChartsPanel::setEstimate(std::shared_ptr<const EnergyChartData> estimate)
{
    estimate_ = std::move(estimate);
    if (!estimate_)
        ledger_.reset();
    choose();
}

void ChartsPanel::setMeasured(std::shared_ptr<const EnergyChartData> measured)
{
    ledger_ = std::move(measured);
    choose();
}

void ChartsPanel::setSource(Source source)
{
    sourceChosen_ = true;
    sourceBox_->setCurrentIndex(sourceBox_->findData(int(source)));
    choose();
}

void ChartsPanel::restyle() { rebuild(); }

ChartsPanel::Source ChartsPanel::source() const { return Source(sourceBox_->currentData().toInt()); }

void ChartsPanel::choose()
{
    auto* items = qobject_cast<QStandardItemModel*>(sourceBox_->model());
    QStandardItem* measured = items->item(sourceBox_->findData(int(Source::Measured)));
    measured->setEnabled(ledger_ != nullptr);
    measured->setText(ledger_ ? "Measured (chip simulator)" : "Measured (chip simulator): not run yet");
    if (!ledger_ && source() == Source::Measured)
        sourceBox_->setCurrentIndex(sourceBox_->findData(int(Source::Estimate)));
    else if (ledger_ && !sourceChosen_)
        sourceBox_->setCurrentIndex(sourceBox_->findData(int(Source::Measured)));
    auto shown = source() == Source::Measured ? ledger_ : estimate_;
    if (shown == data_) {
        updateLabels();
        return;
    }
    data_ = std::move(shown);
    model_->setData(data_);
    rebuild();
}

void ChartsPanel::showHover(const QString& html)
{
    hover_ = html;
    if (html.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(QCursor::pos(), html, this);
}

void ChartsPanel::rebuild()
{
    updateLabels();
    dirty_ = {true, true, true};
    scheduleBuild();
}

void ChartsPanel::scheduleBuild()
{
    // The labels above are set in this event, the chart in the next one: Qt
    // Charts layout plus its first paint are each ~20-30 ms, and together with
    // the caller's work they would stall the GUI thread past 50 ms.
    // A zero-interval timer, not a posted event: Qt delivers posted events in
    // one batch, timers only between batches, after input and other timers.
    buildTimer_->start();
}

void ChartsPanel::updateLabels()
{
    const bool dark = theme::isDark();
    const QString gray = QApplication::palette().color(QPalette::PlaceholderText).name();
    if (!data_) {
        origin_->setText(QString("<span style='color:%1'>No energy data yet: compile a model (Ctrl+R); the "
                                 "Floorplan panel maps it and the cost model estimates energy and latency.</span>")
                             .arg(gray));
    } else {
        origin_->setText(QString("<b>%1</b> — %2 per inference on %3: dynamic %4 + static %5, latency %6 µs")
                             .arg(data_->measured ? "Measured" : "Estimate", data_->origin.toHtmlEscaped())
                             .arg(data_->chipId, formatEnergy(data_->dynamicPj), formatEnergy(data_->staticPj))
                             .arg(data_->latencyNs * 1e-3, 0, 'f', 2));
    }
    if (data_ && data_->measured)
        measured_->clear();
    else if (ledger_)
        measured_->setText(QString("<span style='color:%1'>Showing the cost model's <b>estimate</b>; the chip "
                                   "simulator's measured ledger of the last run is available (Source).</span>")
                               .arg(gray));
    else if (estimate_)
        measured_->setText(QString("<span style='color:%1'>Measured by the chip simulator: <b>not run yet</b> — run "
                                   "the Simulator panel with the chip-simulator engine (F5) to replace this estimate "
                                   "with core/sim's ledger.</span>")
                               .arg(gray));
    else
        measured_->clear();
    measured_->setVisible(!measured_->text().isEmpty());
    if (data_ && data_->projectedChip) {
        projected_->setText(QString("<b>⚠ %1 is a projected chip</b> — every constant below is an assumption, so "
                                    "every number is a <b>projection</b>.")
                                .arg(data_->chipId));
        projected_->setToolTip(data_->projectionNote);
        projected_->setStyleSheet(QString("QLabel { background: %1; color: %2; border: 1px solid %3; "
                                          "border-radius: 3px; padding: 2px 6px; }")
                                      .arg(dark ? "#3d3216" : "#fff4d6", dark ? "#f3e1b0" : "#5c4200",
                                           theme::warningColor(dark).name()));
        projected_->show();
    } else {
        projected_->hide();
    }
}

void ChartsPanel::buildVisible()
{
    // Qt Charts work happens on the GUI thread: build only the chart that is
    // on screen, when it is (a hidden dock or tab costs nothing).
    if (!isVisible())
        return;
    const int tab = tabs_->currentIndex();
    if (tab < 0 || tab >= int(dirty_.size()) || !dirty_[size_t(tab)])
        return;
    dirty_[size_t(tab)] = false;
    QElapsedTimer t;
    t.start();
    if (tab == 0)
        buildLayerChart();
    else if (tab == 1)
        buildStepChart();
    else
        buildUtilizationChart();
    buildMs_ = double(t.nsecsElapsed()) / 1e6;
}

void ChartsPanel::ensureBuilt()
{
    for (int tab = 0; tab < int(dirty_.size()); ++tab)
        if (dirty_[size_t(tab)]) {
            dirty_[size_t(tab)] = false;
            if (tab == 0)
                buildLayerChart();
            else if (tab == 1)
                buildStepChart();
            else
                buildUtilizationChart();
        }
}

void ChartsPanel::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    scheduleBuild();
}

void ChartsPanel::buildLayerChart()
{
    QChart* chart = new QChart;
    styleChart(chart, data_ ? QString("Energy per layer, stacked by event kind (%1)")
                                  .arg(data_->measured ? "measured" : "estimate")
                            : QString("Energy per layer"));
    shownLayers_ = 0;
    if (data_ && model_->rowCount() > 0) {
        const bool dark = theme::isDark();
        // Top layers by energy (the chart stays readable), the rest summed.
        std::vector<int> order(size_t(model_->rowCount()));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](int a, int b) { return model_->layerTotal(a) > model_->layerTotal(b); });
        const bool others = int(order.size()) > kMaxLayers;
        if (others)
            order.resize(size_t(kMaxLayers - 1));
        shownLayers_ = int(order.size());
        double maxTotal = 0;
        for (int r : order)
            maxTotal = std::max(maxTotal, model_->layerTotal(r));
        double otherTotal = 0;
        std::vector<double> otherByKind(size_t(model_->kindCount()), 0.0);
        if (others)
            for (int r = 0; r < model_->rowCount(); ++r)
                if (std::find(order.begin(), order.end(), r) == order.end())
                    for (int k = 0; k < model_->kindCount(); ++k) {
                        otherByKind[size_t(k)] += model_->energy(r, k);
                        otherTotal += model_->energy(r, k);
                    }
        maxTotal = std::max(maxTotal, otherTotal);
        const auto [scale, unit] = energyUnit(maxTotal);
        // Horizontal bars: categories bottom-up, so the largest layer is on top.
        QStringList categories;
        if (others)
            categories << QString("other %1 layers").arg(model_->rowCount() - shownLayers_);
        for (auto it = order.rbegin(); it != order.rend(); ++it) {
            QString name = data_->layers[*it];
            if (name.size() > 28)
                name = name.left(12) + "…" + name.right(14);
            categories << name;
        }
        auto* series = new QHorizontalStackedBarSeries;
        for (int k = 0; k < model_->kindCount(); ++k) {
            double kindTotal = 0;
            for (int r = 0; r < model_->rowCount(); ++r)
                kindTotal += model_->energy(r, k);
            if (kindTotal <= 0)
                continue; // e.g. no chip links on a one-chip mapping
            auto* set = new QBarSet(data_->kinds[k]);
            set->setColor(kindColor(data_->kinds[k], dark));
            set->setBorderColor(set->color());
            if (others)
                *set << otherByKind[size_t(k)] * scale;
            for (auto it = order.rbegin(); it != order.rend(); ++it)
                *set << model_->energy(*it, k) * scale;
            const std::vector<int> rows(order.rbegin(), order.rend());
            connect(set, &QBarSet::hovered, this, [this, k, rows, others](bool on, int index) {
                if (!on) {
                    showHover({});
                    return;
                }
                const int i = index - (others ? 1 : 0);
                if (i < 0) {
                    showHover(QString("layers outside the top %1, summed (%2)").arg(shownLayers_).arg(data_->kinds[k]));
                    return;
                }
                showHover(model_->segmentText(rows[size_t(i)], k));
            });
            series->append(set);
        }
        series->setBarWidth(0.75);
        chart->addSeries(series);
        auto* y = new QBarCategoryAxis;
        y->append(categories);
        auto* x = new QValueAxis;
        x->setLabelFormat("%.3g");
        styleAxis(y);
        styleAxis(x, QString("energy per inference (%1)").arg(unit));
        chart->addAxis(y, Qt::AlignLeft);
        chart->addAxis(x, Qt::AlignBottom);
        series->attachAxis(y);
        series->attachAxis(x);
        x->applyNiceNumbers();
        chart->legend()->setAlignment(Qt::AlignRight);
        chart->legend()->show();
    } else {
        chart->legend()->hide();
    }
    QChart* old = layerView_->chart();
    layerView_->setChart(chart);
    delete old;
}

void ChartsPanel::buildStepChart()
{
    QChart* chart = new QChart;
    styleChart(chart, "Energy and latency per hardware step of one inference");
    if (data_) {
        const bool dark = theme::isDark();
        const std::vector<double> e = data_->stepEnergyPj();
        double cumulative = 0, maxE = 0;
        for (double v : e) {
            cumulative += v;
            maxE = std::max(maxE, v);
        }
        const auto [scale, unit] = energyUnit(std::max(maxE, cumulative));
        auto* energy = new QLineSeries;
        energy->setName("energy per step");
        auto* cum = new QLineSeries;
        cum->setName("cumulative energy");
        auto* latency = new QLineSeries;
        latency->setName(data_->measured ? "step latency" : "step latency (modelled, same every step)");
        double c = 0, maxLat = 0;
        for (size_t s = 0; s < e.size(); ++s) {
            c += e[s];
            energy->append(double(s), e[s] * scale);
            cum->append(double(s), c * scale);
        }
        for (size_t s = 0; s < data_->stepLatencyNs.size(); ++s) {
            latency->append(double(s), data_->stepLatencyNs[s]);
            maxLat = std::max(maxLat, data_->stepLatencyNs[s]);
        }
        energy->setPen(QPen(kindColor("synaptic_op", dark), 2));
        energy->setPointsVisible(true);
        cum->setPen(QPen(kindColor("hop_ew", dark), 2, Qt::DashLine));
        latency->setPen(QPen(kindColor("neuron_update_active", dark), 2));
        latency->setPointsVisible(true);
        for (QLineSeries* s : {energy, cum, latency})
            chart->addSeries(s);
        auto* x = new QValueAxis;
        x->setRange(0, std::max<double>(1, double(e.size()) - 1));
        x->setTickType(QValueAxis::TicksDynamic);
        x->setTickAnchor(0);
        x->setTickInterval(std::max(1.0, std::ceil(double(e.size()) / 12.0)));
        x->setLabelFormat("%d");
        auto* yE = new QValueAxis;
        yE->setRange(0, std::max(1e-9, cumulative * scale * 1.05));
        yE->setLabelFormat("%.3g");
        auto* yL = new QValueAxis;
        yL->setRange(0, std::max(1.0, maxLat * 1.3));
        yL->setLabelFormat("%.0f");
        styleAxis(x, "hardware step (model steps + pipeline fill)");
        styleAxis(yE, QString("energy (%1)").arg(unit));
        styleAxis(yL, "latency (ns)");
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(yE, Qt::AlignLeft);
        chart->addAxis(yL, Qt::AlignRight);
        for (QLineSeries* s : {energy, cum}) {
            s->attachAxis(x);
            s->attachAxis(yE);
        }
        latency->attachAxis(x);
        latency->attachAxis(yL);
        chart->legend()->setAlignment(Qt::AlignTop);
        chart->legend()->show();
        auto stepText = [this, e](int s) {
            QString kinds;
            for (const QString& k : data_->kinds)
                if (const EnergyLine* l = data_->find("step", QString::number(s), k); l && l->energyPj > 0)
                    kinds += QString("<br>%1: %2 (%3 × %4 pJ, <code>%5</code>%6)")
                                 .arg(k, formatEnergy(l->energyPj))
                                 .arg(l->count, 0, 'g', 4)
                                 .arg(l->unitPj, 0, 'g', 4)
                                 .arg(l->constant, l->projected ? ", projected" : "");
            return QString("<b>step %1</b>: %2%3<br>latency %4 ns — %5<br><span style='color:gray'>%6</span>")
                .arg(s)
                .arg(formatEnergy(size_t(s) < e.size() ? e[size_t(s)] : 0.0), kinds)
                .arg(size_t(s) < data_->stepLatencyNs.size() ? data_->stepLatencyNs[size_t(s)] : 0.0, 0, 'f', 1)
                .arg(data_->latencyConstant, data_->latencySource.toHtmlEscaped());
        };
        for (QLineSeries* s : {energy, cum, latency})
            connect(s, &QLineSeries::hovered, this, [this, stepText](const QPointF& p, bool on) {
                showHover(on ? stepText(int(std::lround(p.x()))) : QString());
            });
    } else {
        chart->legend()->hide();
    }
    QChart* old = stepView_->chart();
    stepView_->setChart(chart);
    delete old;
}

void ChartsPanel::buildUtilizationChart()
{
    QChart* chart = new QChart;
    styleChart(chart, "Cores by utilization of their binding resource");
    chart->legend()->hide();
    if (data_ && !data_->coreUtilization.empty()) {
        const int bins = 10;
        const std::vector<int> h = utilizationHistogram(data_->coreUtilization, bins);
        auto* set = new QBarSet("cores");
        set->setColor(theme::categoryColor("conv", theme::isDark()));
        QStringList categories;
        int maxCount = 0;
        for (int b = 0; b < bins; ++b) {
            *set << h[size_t(b)];
            maxCount = std::max(maxCount, h[size_t(b)]);
            categories << QString("%1–%2 %").arg(b * 100 / bins).arg((b + 1) * 100 / bins);
        }
        auto* series = new QBarSeries;
        series->append(set);
        series->setBarWidth(0.9);
        chart->addSeries(series);
        auto* x = new QBarCategoryAxis;
        x->append(categories);
        auto* y = new QValueAxis;
        y->setRange(0, std::max(1, maxCount));
        y->setLabelFormat("%d");
        y->applyNiceNumbers();
        styleAxis(x, "binding-resource utilization (static limits: neurons, axons, memory)");
        styleAxis(y, "cores");
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        series->attachAxis(x);
        series->attachAxis(y);
        const size_t n = data_->coreUtilization.size();
        connect(set, &QBarSet::hovered, this, [this, h, n, bins](bool on, int index) {
            if (!on) {
                showHover({});
                return;
            }
            showHover(QString("<b>%1 of %2 cores</b> use %3–%4 % of their binding resource<br><span "
                              "style='color:gray'>source: core/target mapping (partition), limits from the %5 "
                              "descriptor's core.limits</span>")
                          .arg(h[size_t(index)])
                          .arg(n)
                          .arg(index * 100 / bins)
                          .arg((index + 1) * 100 / bins)
                          .arg(data_->chipId));
        });
    }
    QChart* old = utilView_->chart();
    utilView_->setChart(chart);
    delete old;
}

} // namespace stc::views
