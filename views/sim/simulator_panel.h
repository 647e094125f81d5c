// Simulator panel: Fashion-MNIST test image browser, run / pause / step /
// reset, time-step scrubber, spike raster, value trace of a selected neuron
// and the predicted class with probabilities. The engine that produced the
// trace is always named (today: the f32 reference interpreter). A run
// computes all T steps in a job; playback then reveals them step by step.
#pragma once

#include "document/document.h"
#include "sim/sim_trace.h"

#include <QWidget>

#include <map>

class QChartView;
class QLabel;
class QSlider;
class QSpinBox;
class QTimer;
class QToolButton;

namespace stc::data {
struct ImageSet;
}

namespace stc::views {

class JobRunner;

namespace sim {
class ProbabilityBars;
class SpikeRaster;
}

class SimulatorPanel : public QWidget {
    Q_OBJECT
public:
    SimulatorPanel(Document* document, JobRunner* jobs, QWidget* parent = nullptr);
    ~SimulatorPanel() override;

    bool available() const;
    sim::TracePtr trace() const { return trace_; }
    sim::SpikeRaster* raster() const { return raster_; }
    int imageIndex() const;
    int imageLabel() const; // -1 if the dataset is not loaded
    QString datasetError() const { return datasetError_; }
    int currentStep() const { return step_; }
    void setPlaybackIntervalMs(int ms);

public slots:
    void run();    // simulate (if needed) and play
    void pause();
    void step();   // one step forward (simulates first if needed)
    void reset();  // back to no trace
    void setImageIndex(int index);
    void setCurrentStep(int step);
    void loadDataset();

signals:
    void runFinished(bool ok);
    void datasetReady(bool ok);
    void firingRatesChanged(const std::map<int, double>& rateByOp);

private:
    void simulate(bool thenPlay);
    void showImage();
    void showTrace();
    void showPrediction();
    void showNeuronTrace(int layer, int64_t neuron);
    void updateControls();
    void advance();

    Document* doc_;
    JobRunner* jobs_;
    std::shared_ptr<const data::ImageSet> images_;
    QString datasetError_;
    bool datasetLoading_ = false;
    bool runAfterLoad_ = false;
    sim::TracePtr trace_;
    ModulePtr traceModule_;
    int traceImage_ = -1;
    int step_ = -1;
    bool playing_ = false;

    QLabel* image_;
    QLabel* imageCaption_;
    QSpinBox* index_;
    QToolButton* runButton_;
    QToolButton* pauseButton_;
    QToolButton* stepButton_;
    QToolButton* resetButton_;
    QSlider* scrubber_;
    QLabel* stepLabel_;
    QLabel* engineLabel_;
    QLabel* status_;
    sim::SpikeRaster* raster_;
    sim::ProbabilityBars* prediction_;
    QChartView* neuronTrace_;
    QTimer* playback_;
    QWidget* notYet_;
    QWidget* content_;
};

} // namespace stc::views
