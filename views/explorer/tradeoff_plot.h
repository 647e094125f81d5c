// Scatter of the project's configurations: energy (or latency) per inference
// against top-1 accuracy, the Pareto front the store computed drawn on top
// (larger markers joined by a line). Qt Charts: a project has tens of points.
// Hover shows a point's configuration; a click asks for its pipeline.
#pragma once

#include "explorer/project_snapshot.h"

#include <QWidget>

#include <memory>
#include <vector>

class QChart;
class QChartView;
class QGraphicsSimpleTextItem;
class QScatterSeries;
class QPainter;

namespace stc::views {

class TradeoffPlot : public QWidget {
    Q_OBJECT
public:
    enum class Axis { Energy, Latency };

    explicit TradeoffPlot(QWidget* parent = nullptr);

    void setSnapshot(std::shared_ptr<const ProjectSnapshot> snapshot);
    void setAxis(Axis axis);
    Axis axis() const { return axis_; }
    void restyle(); // rebuilds in the current palette

    QChartView* view() const { return view_; }
    QScatterSeries* pointSeries() const { return points_; }
    QScatterSeries* frontSeries() const { return front_; }
    // Run ids of the points in each series, in series order.
    const std::vector<int64_t>& pointRuns() const { return pointRuns_; }
    const std::vector<int64_t>& frontRuns() const { return frontRuns_; }
    // Widget position (in view()->viewport()) of a run's marker; invalid if not plotted.
    QPoint positionOf(int64_t runId) const;
    QString lastHoverText() const { return hover_; }
    QString hoverText(int64_t runId) const;

    // Renders the chart at `size` (PNG via QImage, SVG via QSvgGenerator).
    void render(QPainter& painter, const QSize& size);
    bool savePng(const QString& path, const QSize& size, QString* error = nullptr);
    bool saveSvg(const QString& path, const QSize& size, QString* error = nullptr);

signals:
    void runClicked(qint64 runId);
    void runHovered(qint64 runId); // -1 when the pointer leaves

private:
    void rebuild();
    void placeLabels(QChart* chart);
    int64_t runAt(const QScatterSeries* series, const QPointF& p) const;

    std::shared_ptr<const ProjectSnapshot> snap_;
    Axis axis_ = Axis::Energy;
    QChartView* view_;
    QScatterSeries* points_ = nullptr;
    QScatterSeries* front_ = nullptr;
    std::vector<int64_t> pointRuns_, frontRuns_;
    double scale_ = 1; // metric value → axis unit
    std::vector<std::pair<QGraphicsSimpleTextItem*, QPointF>> labels_; // front points' configurations
    QString hover_;
};

} // namespace stc::views
