package testdb

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// containerImage is the image started when no other server is available.
const containerImage = "postgres:16"

// containerStartTimeout bounds pulling and starting the image and the wait
// for the server to accept connections.
const containerStartTimeout = 3 * time.Minute

// container is the running container, if startContainer made one. It is
// guarded by server.mu.
var container testcontainers.Container

// dockerAvailable reports whether a Docker engine looks reachable.
func dockerAvailable() bool {
	if os.Getenv("DOCKER_HOST") != "" {
		return true
	}
	_, err := os.Stat("/var/run/docker.sock")
	return err == nil
}

// startContainer starts a throwaway PostgreSQL container and returns a
// connection string for it once it accepts connections. testcontainers'
// reaper removes the container if the process dies before Main stops it.
func startContainer(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, containerStartTimeout)
	defer cancel()

	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        containerImage,
			ExposedPorts: []string{"5432/tcp"},
			Env: map[string]string{
				"POSTGRES_USER":             "postgres",
				"POSTGRES_HOST_AUTH_METHOD": "trust",
			},
			WaitingFor: wait.ForListeningPort("5432/tcp"),
		},
		Started: true,
	}
	c, err := testcontainers.GenericContainer(ctx, req)
	if err != nil {
		if c != nil {
			_ = c.Terminate(context.Background())
		}
		return "", err
	}

	endpoint, err := c.PortEndpoint(ctx, "5432/tcp", "")
	if err != nil {
		_ = c.Terminate(context.Background())
		return "", fmt.Errorf("find mapped port: %w", err)
	}
	url := "postgres://postgres@" + endpoint + "/postgres?sslmode=disable"

	// The port can open a moment before the server accepts sessions.
	if err := waitForConnect(ctx, url); err != nil {
		_ = c.Terminate(context.Background())
		return "", err
	}
	container = c
	return url, nil
}

// waitForConnect retries a connection to url until one succeeds or ctx ends.
func waitForConnect(ctx context.Context, url string) error {
	for {
		err := ping(ctx, url)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for container to accept connections: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stopContainer removes the container started by this process, if any.
func stopContainer(ctx context.Context) error {
	server.mu.Lock()
	defer server.mu.Unlock()

	if container == nil {
		return nil
	}
	if err := container.Terminate(ctx); err != nil {
		return fmt.Errorf("terminate postgres container: %w", err)
	}
	container = nil
	return nil
}
