// The model graph panel: search bar, zoomable/pannable view, minimap. It
// rebuilds GraphData when the document changes and lays it out in a job
// (lane "layout"); a newer layout supersedes an older one.
#pragma once

#include "graph/graph_scene.h"

#include <QGraphicsView>
#include <QWidget>

#include <memory>
#include <set>

class QLineEdit;
class QLabel;

namespace stc::views {
class Document;
class JobRunner;
}

namespace stc::views::graph {

class ZoomableView : public QGraphicsView {
    Q_OBJECT
public:
    explicit ZoomableView(QWidget* parent = nullptr);
    void zoomBy(double factor);
    void fit();
    double zoom() const { return transform().m11(); }

signals:
    void viewportChanged();

protected:
    void wheelEvent(QWheelEvent* event) override;
    void scrollContentsBy(int dx, int dy) override;
    void resizeEvent(QResizeEvent* event) override;
    void drawBackground(QPainter* painter, const QRectF& rect) override;
};

class Minimap : public QWidget {
    Q_OBJECT
public:
    Minimap(ZoomableView* view, QWidget* parent);
    void invalidate();

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    QRectF mapping(QTransform* sceneToMini) const;
    void centerAt(const QPoint& p);
    ZoomableView* view_;
    QPixmap cache_;
};

class GraphView : public QWidget {
    Q_OBJECT
public:
    GraphView(Document* document, JobRunner* jobs, QWidget* parent = nullptr);

    GraphScene* scene() const { return scene_; }
    ZoomableView* view() const { return view_; }
    bool layoutPending() const { return pending_; }
    QString layoutEngine() const { return engine_; }
    double lastLayoutSeconds() const { return layoutSeconds_; }

public slots:
    void relayout();
    void fit();
    void zoomIn();
    void zoomOut();
    void focusSearch();
    void collapseAll();
    void expandAll();
    void toggleGroup(const QString& path);
    void setActivity(const std::map<int, double>& firingRateByOp);

signals:
    void layoutFinished();

private:
    void onDocumentChanged();
    void applySearch(bool next);

    Document* doc_;
    JobRunner* jobs_;
    GraphScene* scene_;
    ZoomableView* view_;
    Minimap* minimap_;
    QLineEdit* search_;
    QLabel* info_;
    std::set<std::string> collapsed_;
    bool collapsedInitialized_ = false;
    bool pending_ = false;
    bool fitted_ = false;
    QString engine_;
    double layoutSeconds_ = 0;
    std::vector<int> matches_;
    int matchIndex_ = -1;
    std::map<int, double> activity_;
};

} // namespace stc::views::graph
