// Spike raster: every spike of every LIF layer, time on x, neurons on y,
// grouped in bands by layer with a colour per layer. Painted into a QImage
// (not Qt Charts): spikes are binned to pixels, so the cost is bounded by the
// number of spikes plus the image size. Zoom with the wheel (Ctrl: time
// axis), pan by dragging, double-click to reset, hover for details.
#pragma once

#include "sim/sim_trace.h"

#include <QImage>
#include <QWidget>

namespace stc::views::sim {

class SpikeRaster : public QWidget {
    Q_OBJECT
public:
    explicit SpikeRaster(QWidget* parent = nullptr);

    void setTrace(TracePtr trace);
    TracePtr trace() const { return trace_; }
    // Steps after `step` are drawn dimmed (playback position); -1 = all bright.
    void setCurrentStep(int step);
    void setSelectedNeuron(int layer, int64_t neuron);
    void resetView();

    // Renders the plot area into an image of `size`; public for the benchmark.
    QImage renderPlot(const QSize& size);
    double lastRenderMs() const { return lastRenderMs_; }
    int64_t lastPaintedSpikes() const { return lastPaintedSpikes_; }

    struct Hit {
        int layer = -1;
        int64_t neuron = -1;
        int step = -1;
    };
    Hit hitTest(const QPoint& widgetPos) const;

signals:
    void neuronSelected(int layer, int64_t neuron);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;

private:
    void layoutBands();
    QRect plotRect() const;
    double rowOf(int layer, int64_t neuron) const;

    TracePtr trace_;
    std::vector<double> bandStart_, bandHeight_; // virtual row units per layer
    double totalRows_ = 1;
    double v0_ = 0, v1_ = 1; // visible rows
    double t0_ = 0, t1_ = 1; // visible steps
    int currentStep_ = -1;
    int selLayer_ = -1;
    int64_t selNeuron_ = -1;
    QImage cache_;
    bool dirty_ = true;
    QPoint dragStart_;
    double dragV0_ = 0, dragT0_ = 0;
    bool dragging_ = false;
    double lastRenderMs_ = 0;
    int64_t lastPaintedSpikes_ = 0;
};

} // namespace stc::views::sim
