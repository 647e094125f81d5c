#include "explorer/tradeoff_plot.h"

#include "common/theme.h"
#include "explorer/explorer_model.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QCursor>
#include <QGraphicsSimpleTextItem>
#include <QImage>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPainter>
#include <QScatterSeries>
#include <QSvgGenerator>
#include <QToolTip>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace stc::views {

namespace {

// Enough decimals to tell neighbouring ticks apart: "%.3g" printed a narrow
// range (28.90 .. 29.00) as "28.9 28.9 28.9 29".
QString labelFormatFor(const QValueAxis& a)
{
    const double step = (a.max() - a.min()) / std::max(1, a.tickCount() - 1);
    const double magnitude = std::max(std::abs(a.min()), std::abs(a.max()));
    if (!(step > 0) || magnitude >= 1e6 || magnitude < 1e-3)
        return "%.3g";
    const int decimals = std::clamp(int(std::ceil(-std::log10(step) - 1e-9)), 0, 6);
    return QString("%.%1f").arg(decimals);
}

void styleAxis(QValueAxis* axis, const QString& title)
{
    const QPalette pal = QApplication::palette();
    QFont f = QApplication::font();
    f.setPointSizeF(f.pointSizeF() * 0.9);
    axis->setLabelsFont(f);
    axis->setTitleFont(f);
    axis->setLabelsBrush(pal.color(QPalette::Text));
    axis->setTitleBrush(pal.color(QPalette::Text));
    axis->setGridLineColor(pal.color(QPalette::Midlight));
    axis->setTitleText(title);
}

std::pair<double, QString> unitFor(TradeoffPlot::Axis axis, double maxValue)
{
    if (axis == TradeoffPlot::Axis::Energy) {
        if (maxValue >= 1e9)
            return {1e-9, "mJ"};
        if (maxValue >= 1e6)
            return {1e-6, "µJ"};
        if (maxValue >= 1e3)
            return {1e-3, "nJ"};
        return {1, "pJ"};
    }
    if (maxValue >= 1e6)
        return {1e-6, "ms"};
    if (maxValue >= 1e3)
        return {1e-3, "µs"};
    return {1, "ns"};
}

// [lo, hi] padded by 8 % of the span (or of the value when all are equal).
std::pair<double, double> padded(double lo, double hi)
{
    const double span = hi - lo > 0 ? hi - lo : std::max(std::abs(hi), 1e-9);
    return {lo - 0.08 * span, hi + 0.08 * span};
}

} // namespace

TradeoffPlot::TradeoffPlot(QWidget* parent) : QWidget(parent)
{
    setObjectName("explorer.plot");
    view_ = new QChartView(new QChart, this);
    view_->setObjectName("explorer.chart");
    view_->setRenderHint(QPainter::Antialiasing);
    view_->setMinimumSize(280, 200);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(view_);
    rebuild();
}

void TradeoffPlot::setSnapshot(std::shared_ptr<const ProjectSnapshot> snapshot)
{
    snap_ = std::move(snapshot);
    rebuild();
}

void TradeoffPlot::setAxis(Axis axis)
{
    if (axis == axis_)
        return;
    axis_ = axis;
    rebuild();
}

void TradeoffPlot::restyle() { rebuild(); }

int64_t TradeoffPlot::runAt(const QScatterSeries* series, const QPointF& p) const
{
    const std::vector<int64_t>& runs = series == front_ ? frontRuns_ : pointRuns_;
    const QList<QPointF> pts = series->points();
    int best = -1;
    double bestD = std::numeric_limits<double>::infinity();
    for (int i = 0; i < pts.size() && i < int(runs.size()); ++i) {
        const double d = std::hypot(pts[i].x() - p.x(), pts[i].y() - p.y());
        if (d < bestD)
            bestD = d, best = i;
    }
    return best < 0 ? -1 : runs[size_t(best)];
}

QString TradeoffPlot::hoverText(int64_t runId) const
{
    const ExplorerRow* r = snap_ ? snap_->row(runId) : nullptr;
    if (!r)
        return {};
    const store::ConfigPoint& p = r->point;
    QString front;
    if (r->onEnergyFront || r->onLatencyFront)
        front = QString("<br><b>Pareto front</b>: %1")
                    .arg(r->onEnergyFront && r->onLatencyFront ? "energy and latency" : r->onEnergyFront ? "energy" : "latency");
    return QString("<b>run %1</b> · %2<br>%3<br>top-1 %4 · %5 · %6 · %7 cores%8<br><i>double-click a row or click the point "
                   "to load the pipeline</i>")
        .arg(p.meta.id)
        .arg(configurationText(p.meta).toHtmlEscaped())
        .arg(QString::fromStdString(r->irPipeline.empty() ? p.meta.pipeline : r->irPipeline).toHtmlEscaped())
        .arg(accuracyText(p.value(store::Metric::Accuracy)), energyText(p.value(store::Metric::EnergyPj)),
             latencyText(p.value(store::Metric::LatencyNs)))
        .arg(p.compile.coresUsed)
        .arg(front);
}

void TradeoffPlot::rebuild()
{
    const bool dark = theme::isDark();
    const QPalette pal = QApplication::palette();
    auto* chart = new QChart;
    chart->setBackgroundBrush(pal.color(QPalette::Base));
    chart->setBackgroundRoundness(0);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setAnimationOptions(QChart::NoAnimation);
    QFont tf = QApplication::font();
    tf.setBold(true);
    chart->setTitleFont(tf);
    chart->setTitleBrush(pal.color(QPalette::Text));
    chart->legend()->setLabelColor(pal.color(QPalette::Text));
    chart->legend()->setAlignment(Qt::AlignBottom);

    const store::Metric xm = axis_ == Axis::Energy ? store::Metric::EnergyPj : store::Metric::LatencyNs;
    const std::vector<int64_t> empty;
    const std::vector<int64_t>& frontIds = !snap_ ? empty : axis_ == Axis::Energy ? snap_->energyFront : snap_->latencyFront;
    pointRuns_.clear();
    frontRuns_.clear();
    double maxX = 0;
    if (snap_)
        for (const ExplorerRow& r : snap_->rows)
            if (auto x = r.point.value(xm); x && r.point.value(store::Metric::Accuracy))
                maxX = std::max(maxX, *x);
    const auto [scale, unit] = unitFor(axis_, maxX);
    scale_ = scale;

    points_ = new QScatterSeries;
    points_->setName("configurations");
    points_->setMarkerSize(9);
    points_->setColor(dark ? QColor("#7f9cc4") : QColor("#6f8fb9"));
    points_->setBorderColor(pal.color(QPalette::Base));
    front_ = new QScatterSeries;
    front_->setName("Pareto front (store)");
    front_->setMarkerSize(13);
    front_->setColor(dark ? QColor("#f39a5c") : QColor("#d9622b"));
    front_->setBorderColor(dark ? QColor("#fff3e8") : QColor("#7a2e0c"));
    auto* line = new QLineSeries;
    QPen linePen(front_->color());
    linePen.setWidthF(1.6);
    linePen.setStyle(Qt::DashLine);
    line->setPen(linePen);

    double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
    auto add = [&](QScatterSeries* s, std::vector<int64_t>& runs, const ExplorerRow& r) {
        const double x = *r.point.value(xm) * scale_, y = *r.point.value(store::Metric::Accuracy) * 100;
        s->append(x, y);
        runs.push_back(r.point.meta.id);
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
        return QPointF(x, y);
    };
    if (snap_) {
        for (const ExplorerRow& r : snap_->rows)
            if (r.point.value(xm) && r.point.value(store::Metric::Accuracy) &&
                std::ranges::find(frontIds, r.point.meta.id) == frontIds.end())
                add(points_, pointRuns_, r);
        for (int64_t id : frontIds) // the store's order: by x
            if (const ExplorerRow* r = snap_->row(id))
                line->append(add(front_, frontRuns_, *r));
    }
    chart->addSeries(points_);
    chart->addSeries(line);
    chart->addSeries(front_);

    const QString xName = axis_ == Axis::Energy ? "Energy per inference" : "Latency per inference";
    auto* ax = new QValueAxis;
    auto* ay = new QValueAxis;
    styleAxis(ax, QString("%1 (%2, cost-model estimate)").arg(xName, unit));
    styleAxis(ay, "Top-1 accuracy (%)");
    const size_t n = pointRuns_.size() + frontRuns_.size();
    if (n > 0) {
        const auto [lx, hx] = padded(x0, x1);
        const auto [ly, hy] = padded(y0, y1);
        ax->setRange(std::max(0.0, lx), hx);
        ay->setRange(std::max(0.0, ly), std::min(100.0, hy));
        ax->applyNiceNumbers();
        ay->applyNiceNumbers();
    } else {
        ax->setRange(0, 1);
        ay->setRange(0, 100);
    }
    ax->setLabelFormat(labelFormatFor(*ax));
    ay->setLabelFormat(labelFormatFor(*ay));
    chart->addAxis(ax, Qt::AlignBottom);
    chart->addAxis(ay, Qt::AlignLeft);
    for (QAbstractSeries* s : chart->series()) {
        s->attachAxis(ax);
        s->attachAxis(ay);
    }
    for (QLegendMarker* m : chart->legend()->markers(line))
        m->setVisible(false);
    if (!snap_)
        chart->setTitle("No project open");
    else if (n == 0)
        chart->setTitle(QString("%1 vs accuracy: no configuration has both yet (run `stc sweep … --project`)")
                            .arg(axis_ == Axis::Energy ? "Energy" : "Latency"));
    else
        chart->setTitle(QString("%1 vs top-1 accuracy · %2 configurations, %3 on the Pareto front")
                            .arg(axis_ == Axis::Energy ? "Energy" : "Latency")
                            .arg(n)
                            .arg(frontRuns_.size()));

    for (QScatterSeries* s : {points_, front_}) {
        connect(s, &QScatterSeries::hovered, this, [this, s](const QPointF& p, bool on) {
            const int64_t run = on ? runAt(s, p) : -1;
            hover_ = on ? hoverText(run) : QString();
            if (on)
                QToolTip::showText(QCursor::pos(), hover_, view_);
            else
                QToolTip::hideText();
            emit runHovered(run);
        });
        connect(s, &QScatterSeries::clicked, this, [this, s](const QPointF& p) {
            if (const int64_t run = runAt(s, p); run >= 0)
                emit runClicked(run);
        });
    }
    labels_.clear();
    QFont lf = QApplication::font();
    lf.setPointSizeF(lf.pointSizeF() * 0.85);
    for (size_t i = 0; i < frontRuns_.size(); ++i) {
        const ExplorerRow* r = snap_->row(frontRuns_[i]);
        auto* label = new QGraphicsSimpleTextItem(QFontMetrics(lf).elidedText(configurationText(r->point.meta), Qt::ElideRight, 160), chart);
        label->setFont(lf);
        label->setBrush(pal.color(QPalette::Text));
        label->setZValue(20);
        labels_.push_back({label, front_->at(int(i))});
    }
    connect(chart, &QChart::plotAreaChanged, this, [this, chart] { placeLabels(chart); });
    QChart* old = view_->chart();
    view_->setChart(chart);
    delete old;
    placeLabels(chart);
}

void TradeoffPlot::placeLabels(QChart* chart)
{
    const QRectF area = chart->plotArea();
    std::vector<QRectF> placed;
    for (auto& [label, point] : labels_) {
        const QPointF at = chart->mapToPosition(point, front_);
        const QRectF box = label->boundingRect();
        // Right of the marker, kept inside the plot area; moved down below
        // labels already placed when front points are close together.
        QRectF r(QPointF(at.x() + 9, at.y() - box.height() - 2), box.size());
        if (r.right() > area.right())
            r.moveLeft(at.x() - 9 - box.width());
        for (bool moved = true; moved;) {
            moved = false;
            for (const QRectF& p : placed)
                if (r.intersects(p)) {
                    r.moveTop(p.bottom() + 1);
                    moved = true;
                }
        }
        r.moveTop(std::clamp(r.top(), area.top(), std::max(area.top(), area.bottom() - box.height())));
        placed.push_back(r);
        label->setPos(r.topLeft());
    }
}

QPoint TradeoffPlot::positionOf(int64_t runId) const
{
    for (QScatterSeries* s : {front_, points_}) {
        const auto& runs = s == front_ ? frontRuns_ : pointRuns_;
        for (size_t i = 0; i < runs.size(); ++i)
            if (runs[i] == runId) {
                const QPointF scene = view_->chart()->mapToPosition(s->at(int(i)), s);
                return view_->mapFromScene(view_->chart()->mapToScene(scene));
            }
    }
    return {};
}

void TradeoffPlot::render(QPainter& painter, const QSize& size)
{
    QChart* chart = view_->chart();
    const QSizeF old = chart->size();
    const QPointF oldPos = chart->pos();
    chart->setPos(0, 0);
    chart->resize(size);
    chart->scene()->render(&painter, QRectF(QPointF(0, 0), size), QRectF(QPointF(0, 0), size));
    chart->resize(old);
    chart->setPos(oldPos);
}

bool TradeoffPlot::savePng(const QString& path, const QSize& size, QString* error)
{
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    image.fill(QApplication::palette().color(QPalette::Base));
    {
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        render(painter, size);
    }
    if (image.save(path, "PNG"))
        return true;
    if (error)
        *error = "could not write " + path;
    return false;
}

bool TradeoffPlot::saveSvg(const QString& path, const QSize& size, QString* error)
{
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(size);
    svg.setViewBox(QRect(QPoint(0, 0), size));
    svg.setTitle("STC Studio: " + QString(axis_ == Axis::Energy ? "energy" : "latency") + " vs accuracy");
    svg.setDescription(snap_ ? QString::fromStdString(snap_->path) : QString());
    QPainter painter;
    if (!painter.begin(&svg)) {
        if (error)
            *error = "could not write " + path;
        return false;
    }
    painter.setRenderHint(QPainter::Antialiasing);
    render(painter, size);
    painter.end();
    return true;
}

} // namespace stc::views
