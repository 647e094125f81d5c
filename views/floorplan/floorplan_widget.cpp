#include "floorplan/floorplan_widget.h"

#include "common/theme.h"

#include <QElapsedTimer>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <map>

namespace stc::views {

namespace {

// Perceptually ordered colour maps (viridis / plasma / inferno stops).
QColor ramp(const std::vector<QColor>& stops, double t)
{
    t = std::clamp(t, 0.0, 1.0) * double(stops.size() - 1);
    const size_t i = std::min(size_t(t), stops.size() - 2);
    const double f = t - double(i);
    const QColor& a = stops[i];
    const QColor& b = stops[i + 1];
    return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * f), float(a.greenF() + (b.greenF() - a.greenF()) * f),
                            float(a.blueF() + (b.blueF() - a.blueF()) * f));
}
const std::vector<QColor>& viridis()
{
    static const std::vector<QColor> s{QColor("#440154"), QColor("#3b528b"), QColor("#21918c"), QColor("#5ec962"),
                                       QColor("#fde725")};
    return s;
}
const std::vector<QColor>& inferno()
{
    static const std::vector<QColor> s{QColor("#320a5e"), QColor("#781c6d"), QColor("#bc3754"), QColor("#ed6925"),
                                       QColor("#fbb61a"), QColor("#fcffa4")};
    return s;
}
const std::vector<QColor>& plasma()
{
    static const std::vector<QColor> s{QColor("#0d0887"), QColor("#7e03a8"), QColor("#cc4778"), QColor("#f89540"),
                                       QColor("#f0f921")};
    return s;
}

QColor mix(const QColor& a, const QColor& b, double t)
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t), float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

QString bytes(double b)
{
    return b >= 1024 * 1024 ? QString::number(b / 1024 / 1024, 'f', 2) + " MB"
           : b >= 1024      ? QString::number(b / 1024, 'f', 1) + " KB"
                            : QString::number(b, 'f', 0) + " B";
}

QString energy(double pj)
{
    return pj >= 1e6 ? QString::number(pj * 1e-6, 'f', 3) + " µJ"
           : pj >= 1e3 ? QString::number(pj * 1e-3, 'f', 2) + " nJ"
                       : QString::number(pj, 'f', 1) + " pJ";
}

} // namespace

FloorplanWidget::FloorplanWidget(QWidget* parent) : QWidget(parent)
{
    setObjectName("floorplanWidget");
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setMinimumSize(240, 160);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void FloorplanWidget::setData(std::shared_ptr<const FloorplanData> data)
{
    const bool sameShape = data_ && data && data_->chips == data->chips && data_->tilesX == data->tilesX &&
                           data_->tilesY == data->tilesY && data_->coresPerTile == data->coresPerTile;
    data_ = std::move(data);
    colorsValid_ = false;
    hovered_ = -1;
    updateMaxima();
    computeGeometry();
    if (!sameShape)
        fitted_ = false;
    if (selectedLayer_ >= 0 && (!data_ || selectedLayer_ >= int(data_->layers.size())))
        selectedLayer_ = -1;
    setSelectedLayer(selectedLayer_);
    if (!fitted_)
        fit();
    invalidate();
}

void FloorplanWidget::updateMaxima()
{
    maxEnergy_ = maxActivity_ = 0;
    if (!data_)
        return;
    for (int c = 0; c < int(data_->cores.size()); ++c) {
        maxEnergy_ = std::max(maxEnergy_, coreEnergy(c));
        maxActivity_ = std::max(maxActivity_, coreActivity(c));
    }
}

void FloorplanWidget::setMeasurement(std::shared_ptr<const FloorMeasurement> measurement)
{
    if (measurement == measurement_)
        return;
    measurement_ = std::move(measurement);
    updateMaxima();
    colorsValid_ = false;
    invalidate();
}

bool FloorplanWidget::measured() const
{
    return data_ && measurement_ && measurement_->energyPj.size() == data_->cores.size() &&
           measurement_->spikesPerStep.size() == data_->cores.size();
}

double FloorplanWidget::coreEnergy(int core) const
{
    return measured() ? measurement_->energyPj[size_t(core)] : data_->cores[size_t(core)].energyPj;
}

double FloorplanWidget::coreActivity(int core) const
{
    return measured() ? measurement_->spikesPerStep[size_t(core)] : data_->cores[size_t(core)].spikesOutPerStep;
}

QString FloorplanWidget::valueSource() const
{
    if (!data_ || (mode_ != ColorMode::Energy && mode_ != ColorMode::Activity))
        return {};
    if (measured())
        return "measured";
    return data_->perCoreEstimate ? "estimate" : QString();
}

QString FloorplanWidget::legendTitle() const
{
    const QString source = valueSource();
    const QString projected = data_ && data_->projectedChip ? ", PROJECTED chip" : "";
    switch (mode_) {
    case ColorMode::Layer: return "colour = layer (list on the left)";
    case ColorMode::Utilization: return "binding-resource utilization";
    case ColorMode::Energy:
        if (source == "measured")
            return QString("MEASURED dynamic energy per inference (%1%2; √ scale)").arg(measurement_->label, projected);
        if (source == "estimate")
            return QString("ESTIMATED energy per inference (cost model%1; √ scale)").arg(projected);
        return "energy per core: not in the package — run the chip simulator (F5) to colour by measured energy";
    case ColorMode::Activity:
        if (source == "measured")
            return QString("MEASURED spikes out per step (%1; √ scale)").arg(measurement_->label);
        if (source == "estimate")
            return QString("ESTIMATED spikes out per step (cost model at %1 rates; √ scale)")
                .arg(data_->ratesMeasured ? "measured" : "assumed");
        return "activity per core: not in the package — run the chip simulator (F5) to colour by measured spikes";
    }
    return {};
}

void FloorplanWidget::setColorMode(ColorMode mode)
{
    if (mode_ == mode)
        return;
    mode_ = mode;
    colorsValid_ = false;
    invalidate();
}

void FloorplanWidget::setSelectedLayer(int layer)
{
    selectedLayer_ = layer;
    highlighted_.assign(data_ ? data_->cores.size() : 0, 0);
    if (data_ && layer >= 0 && layer < int(data_->layers.size()))
        for (int c : data_->layers[size_t(layer)].cores)
            highlighted_[size_t(c)] = 1;
    colorsValid_ = false;
    invalidate();
}

bool FloorplanWidget::isCoreHighlighted(int core) const
{
    return core >= 0 && size_t(core) < highlighted_.size() && highlighted_[size_t(core)];
}

void FloorplanWidget::computeGeometry()
{
    geo_ = Geometry{};
    if (!data_)
        return;
    const int cpt = std::max(1, data_->coresPerTile);
    geo_.subCols = int(std::ceil(std::sqrt(double(cpt))));
    geo_.subRows = (cpt + geo_.subCols - 1) / geo_.subCols;
    const double tileGap = 0.35;
    geo_.tileW = geo_.subCols + tileGap;
    geo_.tileH = geo_.subRows + tileGap;
    geo_.chipW = data_->tilesX * geo_.tileW + 0.6;
    geo_.chipH = data_->tilesY * geo_.tileH + 0.6;
    geo_.chipGap = std::max(2.0, geo_.chipW * 0.08);
    geo_.titleH = std::max(1.6, geo_.chipH * 0.09);
    geo_.chipCols = std::max(1, int(std::ceil(std::sqrt(double(data_->chips)))));
    const int rows = (data_->chips + geo_.chipCols - 1) / geo_.chipCols;
    geo_.board = QSizeF(geo_.chipCols * (geo_.chipW + geo_.chipGap) - geo_.chipGap,
                        rows * (geo_.chipH + geo_.titleH + geo_.chipGap) - geo_.chipGap);
}

QPointF FloorplanWidget::chipOrigin(int chip) const
{
    const int col = chip % geo_.chipCols, row = chip / geo_.chipCols;
    return {col * (geo_.chipW + geo_.chipGap), row * (geo_.chipH + geo_.titleH + geo_.chipGap) + geo_.titleH};
}

QRectF FloorplanWidget::cellBoardRect(int chip, int tileX, int tileY, int core) const
{
    const QPointF o = chipOrigin(chip);
    const double x = o.x() + 0.3 + tileX * geo_.tileW + (core % geo_.subCols);
    const double y = o.y() + 0.3 + tileY * geo_.tileH + (core / geo_.subCols);
    return {x + 0.06, y + 0.06, 0.88, 0.88};
}

QPointF FloorplanWidget::tileCenterBoard(int gx, int gy, int z) const
{
    int chip = 0;
    const int cx = gx / std::max(1, data_->tilesX), cy = gy / std::max(1, data_->tilesY);
    for (size_t c = 0; c < data_->chipPos.size(); ++c)
        if (data_->chipPos[c][0] == cx && data_->chipPos[c][1] == cy && data_->chipPos[c][2] == z) {
            chip = int(c);
            break;
        }
    const QPointF o = chipOrigin(chip);
    return {o.x() + 0.3 + (gx % data_->tilesX) * geo_.tileW + geo_.subCols / 2.0,
            o.y() + 0.3 + (gy % data_->tilesY) * geo_.tileH + geo_.subRows / 2.0};
}

QRectF FloorplanWidget::toWidget(const QRectF& r) const
{
    return {toWidget(r.topLeft()), r.size() * scale_};
}

void FloorplanWidget::fit()
{
    if (!data_ || geo_.board.isEmpty())
        return;
    const double margin = 12, legendH = 30;
    const double sx = (width() - 2 * margin) / geo_.board.width();
    const double sy = (height() - 2 * margin - legendH) / geo_.board.height();
    scale_ = std::max(0.5, std::min(sx, sy));
    offset_ = QPointF((width() - geo_.board.width() * scale_) / 2, margin + (height() - legendH - 2 * margin -
                                                                             geo_.board.height() * scale_) / 2);
    fitted_ = true;
    invalidate();
}

void FloorplanWidget::zoomBy(double factor, const QPointF& anchor)
{
    const double next = std::clamp(scale_ * factor, 0.5, 400.0);
    const QPointF board = (anchor - offset_) / scale_;
    scale_ = next;
    offset_ = anchor - board * scale_;
    invalidate();
}

void FloorplanWidget::invalidate()
{
    cacheValid_ = false;
    update();
}

int FloorplanWidget::cellAt(const QPoint& pos) const
{
    if (!data_)
        return -1;
    const QPointF b = (QPointF(pos) - offset_) / scale_;
    for (int chip = 0; chip < data_->chips; ++chip) {
        const QPointF o = chipOrigin(chip);
        const double lx = b.x() - o.x() - 0.3, ly = b.y() - o.y() - 0.3;
        if (lx < 0 || ly < 0 || lx >= data_->tilesX * geo_.tileW || ly >= data_->tilesY * geo_.tileH)
            continue;
        const int tx = int(lx / geo_.tileW), ty = int(ly / geo_.tileH);
        const double ix = lx - tx * geo_.tileW, iy = ly - ty * geo_.tileH;
        if (ix >= geo_.subCols || iy >= geo_.subRows)
            return -1; // in the gap between tiles
        const int core = int(iy) * geo_.subCols + int(ix);
        if (core >= data_->coresPerTile)
            return -1;
        return data_->cellOf(chip, tx, ty, core);
    }
    return -1;
}

int FloorplanWidget::coreAt(const QPoint& pos) const
{
    const int cell = cellAt(pos);
    if (cell < 0 || size_t(cell) >= data_->coreOfCell.size())
        return -1;
    return std::max(-1, data_->coreOfCell[size_t(cell)]);
}

QRectF FloorplanWidget::coreRect(int core) const
{
    if (!data_ || core < 0 || core >= int(data_->cores.size()))
        return {};
    const FloorCore& c = data_->cores[size_t(core)];
    return toWidget(cellBoardRect(c.chip, c.tileX, c.tileY, c.core));
}

double FloorplanWidget::coreValue(int core) const
{
    const FloorCore& c = data_->cores[size_t(core)];
    switch (mode_) {
    case ColorMode::Utilization: return c.bindingUtilization();
    case ColorMode::Energy: return maxEnergy_ > 0 ? std::sqrt(coreEnergy(core) / maxEnergy_) : 0.0;
    case ColorMode::Activity: return maxActivity_ > 0 ? std::sqrt(coreActivity(core) / maxActivity_) : 0.0;
    case ColorMode::Layer: break;
    }
    return 0;
}

QColor FloorplanWidget::valueColor(double t) const
{
    switch (mode_) {
    case ColorMode::Energy: return ramp(inferno(), t);
    case ColorMode::Activity: return ramp(plasma(), t);
    default: return ramp(viridis(), t);
    }
}

QColor FloorplanWidget::coreColor(int core) const
{
    if (!data_ || core < 0 || core >= int(data_->cores.size()))
        return {};
    if (mode_ == ColorMode::Layer)
        return theme::layerColor(std::max(0, data_->cores[size_t(core)].layer), theme::isDark(palette()));
    return valueColor(coreValue(core));
}

QString FloorplanWidget::coreToolTip(int core) const
{
    if (!data_ || core < 0 || core >= int(data_->cores.size()))
        return {};
    const FloorCore& c = data_->cores[size_t(core)];
    QString layers;
    for (int l : c.layers) {
        const FloorLayer& L = data_->layers[size_t(l)];
        layers += QString("<br>&nbsp;&nbsp;%1 <span style='color:gray'>%2 · %3</span>")
                      .arg(L.name.toHtmlEscaped(), L.kind, L.origin.toHtmlEscaped());
    }
    auto row = [&](int r, const QString& used, const QString& cap) {
        const bool binding = r == c.binding;
        return QString("<tr><td>%1%2</td><td align=right>%3</td><td>/ %4</td><td align=right>%5 %</td></tr>")
            .arg(floorResourceName(r), binding ? " <b>(binding)</b>" : QString(), used, cap)
            .arg(c.utilization[size_t(r)] * 100, 0, 'f', 1);
    };
    const auto& cap = data_->capacity;
    QString t = QString("<b>core %1</b> — chip %2, tile (%3, %4), core %5<br>layers:%6"
                        "<table cellspacing=0 cellpadding=1>")
                    .arg(core)
                    .arg(c.chip)
                    .arg(c.tileX)
                    .arg(c.tileY)
                    .arg(c.core)
                    .arg(layers);
    t += row(0, QString::number(c.neurons), QString::number(cap[0], 'f', 0));
    t += row(1, QString::number(c.fanIn), QString::number(cap[1], 'f', 0));
    t += row(2, QString::number(c.fanOut), QString::number(cap[2], 'f', 0));
    t += row(3, bytes(double(c.synapticBytes)), bytes(cap[3]));
    t += row(4, bytes(double(c.synapticBytes + c.stateBytes)), cap[4] > 0 ? bytes(cap[4]) : QString("—"));
    t += row(5, QString::number(c.timeNs, 'f', 1) + " ns", QString::number(cap[5], 'f', 1) + " ns");
    t += "</table>";
    if (data_->perCoreEstimate)
        t += QString("%1 synaptic ops/step · %2 spikes out/step<br>energy %3 per inference (%4)")
                 .arg(c.synOpsPerStep, 0, 'f', 0)
                 .arg(c.spikesOutPerStep, 0, 'f', 1)
                 .arg(energy(c.energyPj), data_->projectedChip ? "estimate, PROJECTED chip" : "estimate");
    else
        t += "rates, synaptic ops and energy per core: not in the package";
    if (measured())
        t += QString("<br><b>measured</b> (%1): %2 spikes out/step · dynamic energy %3 per inference")
                 .arg(measurement_->label.toHtmlEscaped())
                 .arg(measurement_->spikesPerStep[size_t(core)], 0, 'f', 1)
                 .arg(energy(measurement_->energyPj[size_t(core)]));
    return t;
}

void FloorplanWidget::updateColors()
{
    if (colorsValid_ || !data_)
        return;
    const bool dark = theme::isDark(palette());
    const QColor unused = dark ? QColor("#34373d") : QColor("#dfe2e7");
    std::vector<QColor> layerColors(data_->layers.size());
    for (size_t l = 0; l < layerColors.size(); ++l)
        layerColors[l] = theme::layerColor(int(l), dark);
    colors_.resize(data_->cores.size());
    for (size_t c = 0; c < data_->cores.size(); ++c) {
        const int layer = data_->cores[c].layer;
        QColor col = mode_ == ColorMode::Layer ? (layer >= 0 ? layerColors[size_t(layer)] : unused)
                                               : valueColor(coreValue(int(c)));
        if (selectedLayer_ >= 0 && !highlighted_[c])
            col = mix(col, unused, 0.78);
        colors_[c] = col;
    }
    colorsValid_ = true;
}

void FloorplanWidget::renderBoard(QPainter& p, const QRect& target)
{
    updateColors();
    const bool dark = theme::isDark(palette());
    const QColor bg = palette().color(QPalette::Base);
    p.fillRect(target, bg);
    if (!data_)
        return;
    const QColor chipFill = dark ? QColor("#24272c") : QColor("#f3f4f6");
    const QColor chipLine = dark ? QColor("#4a4f57") : QColor("#c5c9d0");
    const QColor unused = dark ? QColor("#34373d") : QColor("#dfe2e7");
    const QColor dead = dark ? QColor("#7a2e2e") : QColor("#b03a3a");
    const QColor text = palette().color(QPalette::WindowText);
    const bool anySelected = selectedLayer_ >= 0;
    const double cellPx = scale_ * 0.88;
    QFont titleFont = font();
    titleFont.setPixelSize(int(std::clamp(geo_.titleH * scale_ * 0.55, 9.0, 14.0)));
    const QRectF view(target);

    for (int chip = 0; chip < data_->chips; ++chip) {
        const QPointF o = chipOrigin(chip);
        const QRectF chipRect = toWidget(QRectF(o, QSizeF(geo_.chipW, geo_.chipH)));
        const QRectF withTitle = chipRect.adjusted(0, -geo_.titleH * scale_, 0, 0);
        if (!withTitle.intersects(view))
            continue; // culled
        p.setPen(QPen(chipLine, 1));
        p.setBrush(chipFill);
        p.drawRoundedRect(chipRect, 3, 3);
        int used = 0;
        const int base = chip * data_->cellsPerChip();
        for (int i = 0; i < data_->cellsPerChip(); ++i)
            used += data_->coreOfCell[size_t(base + i)] >= 0;
        if (chipRect.width() > 70) {
            p.setFont(titleFont);
            p.setPen(text);
            p.drawText(QRectF(chipRect.left(), chipRect.top() - geo_.titleH * scale_, chipRect.width(),
                              geo_.titleH * scale_),
                       Qt::AlignLeft | Qt::AlignVCenter,
                       p.fontMetrics().elidedText(QString("chip %1 · %2/%3 cores").arg(chip).arg(used).arg(data_->cellsPerChip()),
                                                  Qt::ElideRight, int(chipRect.width())));
        }
        p.setPen(Qt::NoPen);
        for (int ty = 0; ty < data_->tilesY; ++ty)
            for (int tx = 0; tx < data_->tilesX; ++tx)
                for (int k = 0; k < data_->coresPerTile; ++k) {
                    const QRectF r = toWidget(cellBoardRect(chip, tx, ty, k));
                    if (!r.intersects(view))
                        continue;
                    const int core = data_->coreOfCell[size_t(data_->cellOf(chip, tx, ty, k))];
                    if (core == FloorplanData::kDead) {
                        p.fillRect(r, dead);
                        if (cellPx >= 6) {
                            p.setPen(QPen(dark ? QColor("#ffb4b4") : QColor("#ffffff"), std::max(1.0, cellPx / 10)));
                            p.drawLine(r.topLeft() + QPointF(cellPx * .2, cellPx * .2),
                                       r.bottomRight() - QPointF(cellPx * .2, cellPx * .2));
                            p.drawLine(r.topRight() + QPointF(-cellPx * .2, cellPx * .2),
                                       r.bottomLeft() + QPointF(cellPx * .2, -cellPx * .2));
                            p.setPen(Qt::NoPen);
                        }
                        continue;
                    }
                    if (core < 0) {
                        p.fillRect(r.toAlignedRect(), unused);
                        continue;
                    }
                    p.fillRect(r.toAlignedRect(), colors_[size_t(core)]);
                }
    }

    // Routes touching the selected layer's cores, through the tile mesh.
    if (anySelected && !data_->routes.empty()) {
        const QColor routeColor = dark ? QColor("#ffffff") : QColor("#1d2733");
        p.setRenderHint(QPainter::Antialiasing, true);
        double maxSpikes = 0;
        for (const auto& r : data_->routes)
            if (isCoreHighlighted(r.from) || isCoreHighlighted(r.to))
                maxSpikes = std::max(maxSpikes, r.spikesPerStep);
        for (const auto& r : data_->routes) {
            if (!(isCoreHighlighted(r.from) || isCoreHighlighted(r.to)) || r.from == r.to)
                continue;
            QPainterPath path(coreRect(r.from).center());
            for (size_t i = 1; i < r.path.size(); ++i)
                path.lineTo(toWidget(tileCenterBoard(r.path[i][0], r.path[i][1], r.path[i][2])));
            path.lineTo(coreRect(r.to).center());
            const double w = maxSpikes > 0 ? 0.8 + 2.2 * std::sqrt(r.spikesPerStep / maxSpikes) : 1.0;
            QColor c = routeColor;
            c.setAlphaF(r.chipLinks > 0 ? 0.9f : 0.6f);
            p.setPen(QPen(c, w, r.chipLinks > 0 ? Qt::DashLine : Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
            p.setBrush(Qt::NoBrush);
            p.drawPath(path);
        }
        p.setRenderHint(QPainter::Antialiasing, false);
        p.setPen(QPen(routeColor, std::max(1.0, cellPx / 12)));
        p.setBrush(Qt::NoBrush);
        for (size_t c = 0; c < highlighted_.size(); ++c)
            if (highlighted_[c])
                p.drawRect(coreRect(int(c)));
    }
}

void FloorplanWidget::drawLegend(QPainter& p)
{
    const bool dark = theme::isDark(palette());
    QFont f = font();
    f.setPixelSize(11);
    p.setFont(f);
    const QFontMetrics fm(f);
    const int h = 18, y = height() - h - 6;
    QColor strip = palette().color(QPalette::Base);
    strip.setAlpha(225);
    p.fillRect(QRect(0, y - 4, width(), h + 10), strip);
    int x = 10;
    auto swatch = [&](const QColor& c, const QString& label, bool cross = false) {
        p.fillRect(QRect(x, y + 3, 12, 12), c);
        if (cross) {
            p.setPen(QPen(Qt::white, 1.5));
            p.drawLine(x + 3, y + 6, x + 9, y + 12);
            p.drawLine(x + 9, y + 6, x + 3, y + 12);
        }
        p.setPen(palette().color(QPalette::WindowText));
        p.drawText(x + 16, y + 13, label);
        x += 16 + fm.horizontalAdvance(label) + 14;
    };
    const QString title = legendTitle();
    const double maxValue = mode_ == ColorMode::Energy ? maxEnergy_ : mode_ == ColorMode::Activity ? maxActivity_ : 1;
    p.setPen(palette().color(QPalette::WindowText));
    // A ramp only when there are values to read off it.
    if (mode_ == ColorMode::Utilization || !valueSource().isEmpty()) {
        const int w = 120;
        p.drawText(x, y + 13, "0");
        x += fm.horizontalAdvance("0") + 4;
        for (int i = 0; i < w; ++i)
            p.fillRect(QRect(x + i, y + 3, 1, 12), valueColor(double(i) / (w - 1)));
        p.setPen(palette().color(QPalette::WindowText));
        const QString hi = mode_ == ColorMode::Energy     ? energy(maxValue)
                           : mode_ == ColorMode::Activity ? QString::number(maxValue, 'f', 1)
                                                          : QString("100 %");
        p.drawText(x + w + 4, y + 13, hi);
        x += w + 4 + fm.horizontalAdvance(hi) + 12;
    }
    p.drawText(x, y + 13, title);
    x += fm.horizontalAdvance(title) + 18;
    swatch(dark ? QColor("#34373d") : QColor("#dfe2e7"), "unused");
    swatch(dark ? QColor("#7a2e2e") : QColor("#b03a3a"), "dead core", true);
    if (selectedLayer_ >= 0)
        swatch(dark ? QColor("#ffffff") : QColor("#1d2733"), "routes of the selected layer (dashed: chip link)");
}

void FloorplanWidget::paintEvent(QPaintEvent*)
{
    QElapsedTimer timer;
    timer.start();
    const qreal dpr = devicePixelRatioF();
    if (!cacheValid_ || cache_.size() != size() * dpr) {
        QElapsedTimer rt;
        rt.start();
        cache_ = QPixmap(size() * dpr);
        cache_.setDevicePixelRatio(dpr);
        QPainter cp(&cache_);
        renderBoard(cp, rect());
        cacheValid_ = true;
        renderMs_ = double(rt.nsecsElapsed()) / 1e6;
    }
    QPainter p(this);
    p.drawPixmap(0, 0, cache_);
    if (!data_) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, "No mapping yet.");
        paintMs_ = double(timer.nsecsElapsed()) / 1e6;
        return;
    }
    if (hovered_ >= 0) {
        p.setPen(QPen(palette().color(QPalette::Highlight), 2));
        p.setBrush(Qt::NoBrush);
        p.drawRect(coreRect(hovered_).adjusted(-1, -1, 1, 1));
    }
    drawLegend(p);
    paintMs_ = double(timer.nsecsElapsed()) / 1e6;
}

QImage FloorplanWidget::renderImage(const QSize& size)
{
    QImage img(size, QImage::Format_ARGB32_Premultiplied);
    QPainter p(&img);
    QElapsedTimer rt;
    rt.start();
    renderBoard(p, QRect(QPoint(0, 0), size));
    renderMs_ = double(rt.nsecsElapsed()) / 1e6;
    return img;
}

void FloorplanWidget::resizeEvent(QResizeEvent*)
{
    if (!fitted_ || data_)
        fit();
    invalidate();
}

void FloorplanWidget::wheelEvent(QWheelEvent* event)
{
    const double steps = event->angleDelta().y() / 120.0;
    zoomBy(std::pow(1.2, steps), event->position());
    fitted_ = true;
    event->accept();
}

void FloorplanWidget::mousePressEvent(QMouseEvent* event)
{
    pressPos_ = lastPos_ = event->position().toPoint();
    dragging_ = false;
}

void FloorplanWidget::mouseMoveEvent(QMouseEvent* event)
{
    const QPoint pos = event->position().toPoint();
    if (event->buttons() & Qt::LeftButton) {
        if (dragging_ || (pos - pressPos_).manhattanLength() > 4) {
            dragging_ = true;
            offset_ += QPointF(pos - lastPos_);
            lastPos_ = pos;
            invalidate();
        }
        return;
    }
    setHovered(coreAt(pos));
}

void FloorplanWidget::setHovered(int core)
{
    if (core == hovered_)
        return;
    hovered_ = core;
    setToolTip(coreToolTip(core));
    emit coreHovered(core);
    update();
}

void FloorplanWidget::mouseReleaseEvent(QMouseEvent* event)
{
    if (!dragging_ && event->button() == Qt::LeftButton) {
        const int core = coreAt(event->position().toPoint());
        const int layer = core >= 0 ? data_->cores[size_t(core)].layer : -1;
        setSelectedLayer(layer);
        emit layerClicked(layer);
    }
    dragging_ = false;
}

void FloorplanWidget::mouseDoubleClickEvent(QMouseEvent*) { fit(); }

void FloorplanWidget::leaveEvent(QEvent*) { setHovered(-1); }

void FloorplanWidget::keyPressEvent(QKeyEvent* event)
{
    const QPointF center(width() / 2.0, height() / 2.0);
    switch (event->key()) {
    case Qt::Key_F: fit(); break;
    case Qt::Key_Plus:
    case Qt::Key_Equal: zoomBy(1.25, center); break;
    case Qt::Key_Minus: zoomBy(0.8, center); break;
    case Qt::Key_Escape:
        setSelectedLayer(-1);
        emit layerClicked(-1);
        break;
    default: QWidget::keyPressEvent(event); return;
    }
}

bool FloorplanWidget::event(QEvent* event)
{
    if (event->type() == QEvent::ToolTip) {
        auto* he = static_cast<QHelpEvent*>(event);
        const QString text = coreToolTip(coreAt(he->pos()));
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(he->globalPos(), text, this);
        return true;
    }
    return QWidget::event(event);
}

} // namespace stc::views
