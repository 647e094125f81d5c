#include "sim/spike_raster.h"

#include "common/theme.h"

#include <QElapsedTimer>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace stc::views::sim {

namespace {
constexpr int kGutter = 132; // layer names
constexpr int kHeader = 20;  // time axis
constexpr double kGapFraction = 0.015;
} // namespace

SpikeRaster::SpikeRaster(QWidget* parent) : QWidget(parent)
{
    setObjectName("spikeRaster");
    setMouseTracking(true);
    setMinimumSize(320, 160);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void SpikeRaster::setTrace(TracePtr trace)
{
    trace_ = std::move(trace);
    layoutBands();
    resetView();
}

void SpikeRaster::setCurrentStep(int step)
{
    if (step == currentStep_)
        return;
    currentStep_ = step;
    dirty_ = true;
    update();
}

void SpikeRaster::setSelectedNeuron(int layer, int64_t neuron)
{
    selLayer_ = layer;
    selNeuron_ = neuron;
    update();
}

void SpikeRaster::resetView()
{
    v0_ = 0;
    v1_ = totalRows_;
    t0_ = 0;
    t1_ = trace_ ? double(std::max<int64_t>(1, trace_->timesteps)) : 1.0;
    dirty_ = true;
    update();
}

void SpikeRaster::layoutBands()
{
    bandStart_.clear();
    bandHeight_.clear();
    totalRows_ = 1;
    if (!trace_ || trace_->layers.empty())
        return;
    double total = 0;
    for (const auto& l : trace_->layers)
        total += double(l.neurons);
    // Small layers get a third of the average band so they stay visible.
    const double minBand = total / double(trace_->layers.size()) / 3.0;
    const double gap = total * kGapFraction;
    double y = 0;
    for (const auto& l : trace_->layers) {
        const double h = std::max(double(l.neurons), minBand);
        bandStart_.push_back(y);
        bandHeight_.push_back(h);
        y += h + gap;
    }
    totalRows_ = std::max(1.0, y - gap);
}

double SpikeRaster::rowOf(int layer, int64_t neuron) const
{
    const auto& l = trace_->layers[size_t(layer)];
    return bandStart_[size_t(layer)] + (double(neuron) + 0.5) * bandHeight_[size_t(layer)] / double(std::max<int64_t>(1, l.neurons));
}

QRect SpikeRaster::plotRect() const { return QRect(kGutter, kHeader, std::max(1, width() - kGutter - 4), std::max(1, height() - kHeader - 2)); }

QImage SpikeRaster::renderPlot(const QSize& size)
{
    QElapsedTimer timer;
    timer.start();
    const bool dark = theme::isDark(palette());
    QImage img(size, QImage::Format_RGB32);
    const QRgb bg = dark ? qRgb(24, 26, 30) : qRgb(252, 252, 253);
    img.fill(bg);
    lastPaintedSpikes_ = 0;
    if (!trace_ || trace_->layers.empty() || size.isEmpty()) {
        lastRenderMs_ = double(timer.nsecsElapsed()) / 1e6;
        return img;
    }
    const int W = size.width(), H = size.height();
    const double xScale = W / (t1_ - t0_), yScale = H / (v1_ - v0_);
    auto* bits = reinterpret_cast<QRgb*>(img.bits());
    const qsizetype stride = img.bytesPerLine() / 4;
    const QRgb bandBg = dark ? qRgb(30, 33, 38) : qRgb(244, 246, 249);
    // Spikes are counted per (pixel row, step) cell, then each cell is filled
    // once with a shade for its density (spikes / neurons in the cell), so the
    // cost is ~ spikes + cells whatever the zoom.
    std::vector<uint32_t> counts;

    for (size_t li = 0; li < trace_->layers.size(); ++li) {
        const LayerTrace& l = trace_->layers[li];
        const int by0 = std::max(0, int((bandStart_[li] - v0_) * yScale));
        const int by1 = std::min(H, int((bandStart_[li] + bandHeight_[li] - v0_) * yScale));
        for (int y = by0; y < by1; ++y)
            std::fill(bits + y * stride, bits + y * stride + W, bandBg);
        if (by1 <= 0 || by0 >= H || l.neurons == 0)
            continue;
        const QColor c = theme::layerColor(int(li), dark);
        const double rowPerNeuron = bandHeight_[li] / double(l.neurons);
        // Neurons per pixel row: a full cell has this many spikes.
        const double capacity = std::max(1.0, 1.0 / (rowPerNeuron * yScale));
        const int tFirst = std::max(0, int(std::floor(t0_)));
        const int tLast = std::min(int(l.steps()) - 1, int(std::ceil(t1_)));
        if (tLast < tFirst)
            continue;
        const int nt = tLast - tFirst + 1;
        counts.assign(size_t(H) * size_t(nt), 0);
        for (int t = tFirst; t <= tLast; ++t) {
            const int64_t b = l.stepOffset[size_t(t)], e = l.stepOffset[size_t(t) + 1];
            lastPaintedSpikes_ += e - b;
            uint32_t* column = counts.data() + size_t(t - tFirst);
            for (int64_t k = b; k < e; ++k) {
                const double row = bandStart_[li] + (double(l.neuron[size_t(k)]) + 0.5) * rowPerNeuron;
                const int y = int((row - v0_) * yScale);
                if (unsigned(y) < unsigned(H))
                    ++column[size_t(y) * size_t(nt)];
            }
        }
        // 16 shades from faint to the full layer colour; later steps dimmed.
        QRgb shades[2][16];
        for (int d = 0; d < 2; ++d)
            for (int k = 0; k < 16; ++k) {
                const double a = (0.35 + 0.65 * k / 15.0) * (d ? 0.3 : 1.0);
                shades[d][k] = qRgb(int(qRed(bandBg) + a * (c.red() - qRed(bandBg))),
                                    int(qGreen(bandBg) + a * (c.green() - qGreen(bandBg))),
                                    int(qBlue(bandBg) + a * (c.blue() - qBlue(bandBg))));
            }
        const int rowsPerNeuron = std::max(1, int(rowPerNeuron * yScale));
        for (int t = tFirst; t <= tLast; ++t) {
            const int x0 = std::max(0, int(std::floor((t - t0_) * xScale)));
            const int x1 = std::min(W, std::max(x0 + 1, int(std::floor((t + 1 - t0_) * xScale)) - (xScale > 6 ? 1 : 0)));
            if (x0 >= W || x1 <= 0)
                continue;
            const int dim = currentStep_ >= 0 && t > currentStep_ ? 1 : 0;
            for (int y = std::max(0, by0 - 1); y < by1; ++y) {
                const uint32_t n = counts[size_t(y) * size_t(nt) + size_t(t - tFirst)];
                if (!n)
                    continue;
                const int shade = std::min(15, int(15.0 * double(n) / capacity + 0.5));
                const QRgb color = shades[dim][shade];
                // When zoomed in, a neuron spans several pixel rows.
                for (int dy = 0; dy < rowsPerNeuron && y + dy < H; ++dy)
                    std::fill(bits + (y + dy) * stride + x0, bits + (y + dy) * stride + x1, color);
            }
        }
    }
    lastRenderMs_ = double(timer.nsecsElapsed()) / 1e6;
    return img;
}

void SpikeRaster::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    const bool dark = theme::isDark(palette());
    const QRect plot = plotRect();
    p.fillRect(rect(), palette().color(QPalette::Base));
    if (!trace_ || trace_->layers.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, "Run a simulation to see spikes (F5).");
        return;
    }
    if (dirty_ || cache_.size() != plot.size()) {
        cache_ = renderPlot(plot.size());
        dirty_ = false;
    }
    p.drawImage(plot.topLeft(), cache_);

    // Layer names in the gutter, clipped to their band.
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    p.setFont(f);
    const double yScale = plot.height() / (v1_ - v0_);
    for (size_t li = 0; li < trace_->layers.size(); ++li) {
        const double y0 = plot.top() + (bandStart_[li] - v0_) * yScale;
        const double h = bandHeight_[li] * yScale;
        if (y0 + h < plot.top() || y0 > plot.bottom())
            continue;
        const QRectF band(4, std::max<double>(plot.top(), y0), kGutter - 10,
                          std::min<double>(plot.bottom(), y0 + h) - std::max<double>(plot.top(), y0));
        p.fillRect(QRectF(kGutter - 5, band.top(), 3, band.height()), theme::layerColor(int(li), dark));
        if (band.height() >= 11) {
            const auto& l = trace_->layers[li];
            // The module path ("blocks.0.attn.q_lif") names a layer best; origin may
            // append " @ file:line".
            const std::string where = l.origin.substr(0, l.origin.find(" @ "));
            const QString label = QString::fromStdString(where.empty() ? l.name : where);
            p.setPen(palette().color(QPalette::Text));
            p.drawText(band, Qt::AlignRight | Qt::AlignVCenter,
                       p.fontMetrics().elidedText(label, Qt::ElideLeft, int(band.width()) - 4));
        }
    }
    // Time axis.
    p.setPen(palette().color(QPalette::PlaceholderText));
    const double xScale = plot.width() / (t1_ - t0_);
    const int every = std::max(1, int(std::ceil(40.0 / xScale)));
    for (int t = std::max(0, int(t0_)); t < int(std::ceil(t1_)); ++t) {
        if (t % every)
            continue;
        const double x = plot.left() + (t + 0.5 - t0_) * xScale;
        if (x < plot.left() || x > plot.right())
            continue;
        p.drawText(QRectF(x - 20, 2, 40, kHeader - 4), Qt::AlignCenter, QString("t%1").arg(t));
    }
    // Playback cursor and selected neuron.
    if (currentStep_ >= 0) {
        const double x = plot.left() + (currentStep_ + 1 - t0_) * xScale;
        if (x >= plot.left() && x <= plot.right()) {
            p.setPen(QPen(palette().color(QPalette::Highlight), 1.5));
            p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        }
    }
    if (selLayer_ >= 0 && selLayer_ < int(trace_->layers.size())) {
        const double y = plot.top() + (rowOf(selLayer_, selNeuron_) - v0_) * yScale;
        if (y >= plot.top() && y <= plot.bottom()) {
            p.setPen(QPen(palette().color(QPalette::Highlight), 1, Qt::DashLine));
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
        }
    }
}

void SpikeRaster::resizeEvent(QResizeEvent*) { dirty_ = true; }

SpikeRaster::Hit SpikeRaster::hitTest(const QPoint& pos) const
{
    Hit hit;
    const QRect plot = plotRect();
    if (!trace_ || !plot.contains(pos))
        return hit;
    const double row = v0_ + (pos.y() - plot.top()) * (v1_ - v0_) / plot.height();
    const double step = t0_ + (pos.x() - plot.left()) * (t1_ - t0_) / plot.width();
    for (size_t li = 0; li < trace_->layers.size(); ++li) {
        if (row < bandStart_[li] || row >= bandStart_[li] + bandHeight_[li])
            continue;
        const auto& l = trace_->layers[li];
        hit.layer = int(li);
        hit.neuron = std::clamp<int64_t>(int64_t((row - bandStart_[li]) / bandHeight_[li] * double(l.neurons)), 0,
                                         l.neurons - 1);
        hit.step = std::clamp(int(step), 0, int(std::max<int64_t>(1, l.steps())) - 1);
        break;
    }
    return hit;
}

bool SpikeRaster::event(QEvent* e)
{
    if (e->type() == QEvent::ToolTip && trace_) {
        auto* help = static_cast<QHelpEvent*>(e);
        const Hit h = hitTest(help->pos());
        if (h.layer < 0) {
            QToolTip::hideText();
            return true;
        }
        const auto& l = trace_->layers[size_t(h.layer)];
        bool spiked = false;
        if (h.step < l.steps()) {
            auto b = l.neuron.begin() + long(l.stepOffset[size_t(h.step)]);
            auto en = l.neuron.begin() + long(l.stepOffset[size_t(h.step) + 1]);
            spiked = std::binary_search(b, en, int32_t(h.neuron));
        }
        QToolTip::showText(help->globalPos(),
                           QString("<b>%1</b> (%%2)<br>neuron %3 of %4<br>t = %5: %6<br>layer: %7 spikes, rate %8 %")
                               .arg(QString::fromStdString(l.origin).toHtmlEscaped(), QString::fromStdString(l.name))
                               .arg(h.neuron)
                               .arg(l.neurons)
                               .arg(h.step)
                               .arg(spiked ? "spike" : "silent")
                               .arg(l.total)
                               .arg(l.firingRate() * 100, 0, 'f', 2),
                           this);
        return true;
    }
    return QWidget::event(e);
}

void SpikeRaster::wheelEvent(QWheelEvent* e)
{
    const QRect plot = plotRect();
    const double factor = std::pow(0.999, e->angleDelta().y());
    if (e->modifiers() & Qt::ControlModifier) {
        const double anchor = t0_ + (e->position().x() - plot.left()) * (t1_ - t0_) / plot.width();
        const double span = std::clamp((t1_ - t0_) * factor, 1.0, double(std::max<int64_t>(1, trace_ ? trace_->timesteps : 1)));
        t0_ = anchor - (anchor - t0_) * span / (t1_ - t0_);
        t1_ = t0_ + span;
    } else {
        const double anchor = v0_ + (e->position().y() - plot.top()) * (v1_ - v0_) / plot.height();
        const double span = std::clamp((v1_ - v0_) * factor, 4.0, totalRows_);
        v0_ = std::clamp(anchor - (anchor - v0_) * span / (v1_ - v0_), 0.0, totalRows_ - span);
        v1_ = v0_ + span;
    }
    dirty_ = true;
    update();
    e->accept();
}

void SpikeRaster::mousePressEvent(QMouseEvent* e)
{
    dragStart_ = e->pos();
    dragV0_ = v0_;
    dragT0_ = t0_;
    dragging_ = false;
}

void SpikeRaster::mouseMoveEvent(QMouseEvent* e)
{
    if (!(e->buttons() & Qt::LeftButton))
        return;
    const QPoint d = e->pos() - dragStart_;
    if (!dragging_ && d.manhattanLength() < 4)
        return;
    dragging_ = true;
    const QRect plot = plotRect();
    const double spanV = v1_ - v0_, spanT = t1_ - t0_;
    v0_ = std::clamp(dragV0_ - d.y() * spanV / plot.height(), 0.0, std::max(0.0, totalRows_ - spanV));
    v1_ = v0_ + spanV;
    t0_ = dragT0_ - d.x() * spanT / plot.width();
    t1_ = t0_ + spanT;
    dirty_ = true;
    update();
}

void SpikeRaster::mouseReleaseEvent(QMouseEvent* e)
{
    if (dragging_)
        return;
    const Hit h = hitTest(e->pos());
    if (h.layer >= 0) {
        setSelectedNeuron(h.layer, h.neuron);
        emit neuronSelected(h.layer, h.neuron);
    }
}

void SpikeRaster::mouseDoubleClickEvent(QMouseEvent*) { resetView(); }

} // namespace stc::views::sim
